"""Shared test fixtures: a clean AWS environment for every test, and the CLI run in-process."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Variables that could leak the developer's or CI's AWS set-up into a test.
_AWS_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCOUNT_ID")


@pytest.fixture(autouse=True)
def _clean_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees AWS_REGION / AWS_DEFAULT_REGION unless it sets them itself."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `policygen ARGS...` in this process through policygen.cli.main (the console entry
    point, so errors are rendered exactly as users see them); returns exit code, stdout, stderr."""
    from policygen.cli import main

    def run(*args: str, stdin: bytes | None = None) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["policygen", *args])
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


# --- AWS through moto's server (tests of `lint --role` and `audit`) ------------------------------

# Variables that would let the developer's or CI's AWS set-up reach the test.
_FOREIGN_AWS = (
    "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SFN", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "MOTO_ACCOUNT_ID",
)


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's server on a free port of 127.0.0.1 (offline), shared by the tests that need it."""
    import logging

    moto_server = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_environment(moto_endpoint, monkeypatch, tmp_path) -> str:
    """A freshly reset moto, and the environment that points boto3 (and so policygen) at it;
    returns the endpoint URL."""
    import urllib.request

    for name in _FOREIGN_AWS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=5).close()
    return moto_endpoint
