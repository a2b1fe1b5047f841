"""The pre-commit hooks (.pre-commit-hooks.yaml) run as a user's repository runs them: pre-commit
installs this repository with pip into its own environment, then runs the hooks on a scratch git
repository, once through `pre-commit try-repo` and once with the configuration README.md shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")


def _git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=policygen", "-c", "user.email=policygen@example.invalid", "-c", "commit.gpgsign=false",
         *args],
        cwd=directory, check=True, capture_output=True, text=True,
    ).stdout.strip()


def _commit_all(directory: Path) -> str:
    _git(directory, "add", "-A")
    _git(directory, "commit", "-q", "-m", "scratch")
    return _git(directory, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory) -> tuple[Path, str, dict[str, str]]:
    """This working tree as it is (uncommitted changes too) committed into a scratch repository,
    pre-commit's home and the environment to run it in: one pip install serves every test."""
    base = tmp_path_factory.mktemp("pre-commit")
    repository = base / "hooks"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (repository / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repository / name)
    _git(repository.parent, "init", "-q", str(repository))
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("GIT_", "PRE_COMMIT"))}
    environment.update(HOME=str(base / "home"), PRE_COMMIT_HOME=str(base / "cache"), PRE_COMMIT_COLOR="never")
    return repository, _commit_all(repository), environment


def _pre_commit(environment: dict[str, str], directory: Path, *args: str) -> subprocess.CompletedProcess:
    pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install '.[test]')")
    result = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=directory, env=environment, capture_output=True, text=True, timeout=600)
    if result.returncode == 3 and "pip" in result.stdout + result.stderr:
        pytest.skip(f"pre-commit could not pip install the hook repository (offline?): {result.stdout[-300:]}")
    return result


def _user_repository(tmp_path: Path, files: dict[str, Path | str]) -> Path:
    repository = tmp_path / "user"
    for name, content in files.items():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, repository / name)
        else:
            (repository / name).write_text(content)
    _git(tmp_path, "init", "-q", str(repository))
    _commit_all(repository)
    return repository


def test_try_repo_lint_passes_the_staged_files_and_reports_the_bad_ones(hook_repository, tmp_path):
    # One run: try-repo installs the hook repository anew each time (a store of its own).
    hooks, commit, environment = hook_repository
    user = _user_repository(tmp_path, {
        "good.yaml": FIXTURES / "lint" / "PG204" / "good" / "template.yaml",
        "bad.yaml": FIXTURES / "lint" / "templates" / "sam.yaml",
    })
    result = _pre_commit(
        environment, user, "try-repo", str(hooks), "policygen-lint", "--ref", commit, "--files", "good.yaml", "bad.yaml"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"policygen lint\.+Failed", result.stdout), result.stdout
    assert re.search(r"^bad\.yaml:\d+: PG101 error ", result.stdout, re.MULTILINE), result.stdout
    assert "good.yaml" not in result.stdout.split("Failed", 1)[1]


def _readme_configuration(hooks: Path, commit: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### pre-commit", 1)[1]
    configuration = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    assert "  - repo: https://REPOSITORY-URL-OF-POLICYGEN\n    rev: v0.1.0\n" in configuration
    return configuration.replace("https://REPOSITORY-URL-OF-POLICYGEN", str(hooks)).replace("v0.1.0", commit)


def test_the_readme_configuration_checks_the_committed_policy(hook_repository, tmp_path):
    hooks, commit, environment = hook_repository
    policy = FIXTURES / "expected" / "json" / "documented" / "run-job.json"
    user = _user_repository(tmp_path, {
        ".pre-commit-config.yaml": _readme_configuration(hooks, commit),
        "infra/template.yaml": FIXTURES / "lint" / "PG204" / "good" / "template.yaml",
        "pipeline.asl.json": FIXTURES / "inputs" / "asl" / "run-job.asl.json",
        "iam/pipeline-policy.json": policy,
    })
    current = _pre_commit(environment, user, "run", "--all-files")
    assert current.returncode == 0, current.stdout + current.stderr
    assert re.search(r"policygen lint\.+Passed", current.stdout), current.stdout
    assert re.search(r"policygen generate --check\.+Passed", current.stdout), current.stdout

    stale = policy.read_text().replace('"batch:SubmitJob"', '"batch:*"')
    assert stale != policy.read_text()
    (user / "iam" / "pipeline-policy.json").write_text(stale)
    _commit_all(user)
    changed = _pre_commit(environment, user, "run", "--all-files")
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert re.search(r"policygen generate --check\.+Failed", changed.stdout), changed.stdout
    assert "+++ iam/pipeline-policy.json (generated)" in changed.stdout
    assert (user / "iam" / "pipeline-policy.json").read_text() == stale
