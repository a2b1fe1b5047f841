"""State machine definitions -> the Batch Task states in them, with what each state sends.

Walks every state, through Parallel branches and Map processors (Iterator and ItemProcessor, inline
and DISTRIBUTED), and records each Task whose Resource is a Batch integration
(docs/aws-facts.md#integration-patterns). The records are in scan/model.py.
"""

from policygen.scan.model import (
    JSONATA,
    JSONPATH,
    KNOWN_PARTITIONS,
    STATE_TYPES,
    BatchTask,
    FieldValue,
    Pattern,
    ServiceTask,
    Tag,
    ValueKind,
)
from policygen.scan.services import Catalogue
from policygen.scan.walk import scan, scan_whole

__all__ = [
    "JSONATA", "JSONPATH", "KNOWN_PARTITIONS", "STATE_TYPES", "BatchTask", "Catalogue", "FieldValue", "Pattern", "ServiceTask", "Tag",
    "ValueKind", "scan", "scan_whole",
]
