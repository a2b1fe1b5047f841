"""policygen: least-privilege IAM policies for Step Functions state machines that call AWS Batch."""

__version__ = "0.1.0"
