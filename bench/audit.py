"""Benchmark: `policygen audit` against moto's server on 127.0.0.1 (offline).

    python bench/audit.py                 # 600 machines: 2 accounts x 2 regions x 150
    python bench/audit.py --quick         # 60 machines

Deploys a fleet (tests/audit_fleet.py: a third correct, a third whose roles lack
batch:DescribeJobs, a third without Batch; the correct and Batch-less machines of a region share
one role, the others have their own), audits it at each --concurrency, and prints API calls and
HTTP requests per machine and machines per second. moto answers in about a millisecond on the
same machine; AWS takes tens of milliseconds a call, so real audits are bound by latency and the
concurrency matters more there than here. (Throttling is not benchmarked: a fixed share of
throttled answers, whatever the rate, drives botocore's adaptive mode to its floor of 0.5 requests
a second, which AWS, throttling by rate, would not; tests/test_audit.py proves the retries.)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 machines in one account and region")
    parser.add_argument("--per-scope", type=int, default=150, help="machines per account and region")
    parser.add_argument("--concurrency", default="1,8,16", help="comma-separated thread counts")
    arguments = parser.parse_args()

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    scratch = tempfile.mkdtemp()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.path.join(scratch, "none"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(scratch, "none"),
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        os.environ.pop(name, None)
    try:
        run(arguments)
    finally:
        server.stop()


def run(arguments: argparse.Namespace) -> None:
    from audit_fleet import OTHER_ACCOUNT, OWN_ACCOUNT, Fleet, deploy

    from policygen.audit import AuditOptions, run_audit

    accounts = (OWN_ACCOUNT,) if arguments.quick else (OWN_ACCOUNT, OTHER_ACCOUNT)
    regions = ("us-east-1",) if arguments.quick else ("us-east-1", "eu-west-1")
    per_kind = 20 if arguments.quick else arguments.per_scope // 3
    fleet = Fleet()
    started = time.perf_counter()
    for account in accounts:
        for region in regions:
            deploy(fleet, account, region, {"good": per_kind, "missing": per_kind, "plain": per_kind}, {"good": True, "missing": False, "plain": True})
    print(f"deployed {len(fleet.kinds)} state machines, {len(fleet.roles)} roles, in {time.perf_counter() - started:.1f} s")
    options = dict(regions=regions, assume_role="auditor", accounts=accounts) if len(accounts) > 1 else dict(regions=regions)
    print(f"{'concurrency':>11} {'machines':>8} {'seconds':>8} {'machines/s':>10} {'calls/machine':>13} {'requests/machine':>16} {'errors':>6}")
    for concurrency in (int(c) for c in arguments.concurrency.split(",")):
        started = time.perf_counter()
        outcome = run_audit(AuditOptions(concurrency=concurrency, **options), "json")
        seconds = time.perf_counter() - started
        summary = outcome.report.summary()
        machines = summary["listed"]
        calls = sum(outcome.collected.counter.calls.values())
        requests = sum(outcome.collected.counter.requests.values())
        assert machines == len(fleet.kinds) == summary["audited"], summary
        assert {item.resource for item in outcome.report.findings if item.finding.severity.value == "error"} == fleet.of_kind("missing")
        print(
            f"{concurrency:>11} {machines:>8} {seconds:>8.2f} {machines / seconds:>10.0f} "
            f"{calls / machines:>13.2f} {requests / machines:>16.2f} {summary['findings']['error']:>6}"
        )


if __name__ == "__main__":
    main()
