"""Lint findings as SARIF 2.1.0, the format GitHub code scanning uploads (github/codeql-action/upload-sarif).

Every rule is described in tool.driver.rules (id, name, short and full description, help, default
level); every result has its ruleId, level, message and a physical location (the file as a
relative URI, the start line and column where known). Suggestions are SARIF's "note" level.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from policygen import __version__
from policygen.errors import Location, Notice
from policygen.lint.findings import Finding
from policygen.lint.rules import Rule, Severity, all_rules
from policygen.lint.suppressions import Suppressed
from policygen.render.lint_docs import rule_anchor

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# Relative artifact URIs are relative to this base: the root of the git checkout policygen ran in
# (else its working directory), which GitHub code scanning resolves them from.
SOURCE_ROOT = "%SRCROOT%"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "note"}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


@lru_cache(maxsize=1)
def project_urls() -> dict[str, str]:
    """[project.urls] of pyproject.toml as the installed package's metadata carries them; none when
    policygen runs without being installed, and then the log names no URL rather than a wrong one."""
    try:
        entries = metadata("policygen").get_all("Project-URL") or []
    except PackageNotFoundError:
        return {}
    return dict(entry.split(", ", 1) for entry in entries if ", " in entry)


def project_url(label: str) -> str | None:
    """The project URL with this label, compared as PEP 753 says (`Home-page`, `homepage` and
    `HomePage` are one label); only an absolute http(s) URL, as SARIF's informationUri and helpUri
    must be, so a malformed entry is left out rather than written into every log."""
    wanted = _normalized_label(label)
    for name, url in project_urls().items():
        if _normalized_label(name) == wanted and _is_web_url(url.strip()):
            return url.strip()
    return None


def _normalized_label(label: str) -> str:
    # https://packaging.python.org/en/latest/specifications/well-known-project-urls/#label-normalization
    return label.translate(_LABEL_NOISE).lower()


_LABEL_NOISE = str.maketrans("", "", string.punctuation + string.whitespace)


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def driver_json(rules: Sequence[Rule]) -> dict[str, Any]:
    """tool.driver: policygen, its version, its homepage (when there is one), and the rules."""
    driver: dict[str, Any] = {"name": "policygen", "version": __version__}
    homepage = project_url("Homepage")
    if homepage is not None:
        driver["informationUri"] = homepage
    driver["rules"] = [rule_json(rule) for rule in rules]
    return driver


def help_uri(rule: Rule) -> str | None:
    """The rule's section of docs/rules.md: the Documentation URL, when it names that page, anchored
    at the rule's heading (lint_docs.rule_anchor); for the rules documented there. A Documentation
    URL of another page (a README, a docs site's home) would get an anchor that leads nowhere."""
    documentation = project_url("Documentation")
    if documentation is None or rule.id not in all_rules():
        return None
    page = documentation.split("#", 1)[0]
    if not urlsplit(page).path.endswith("/rules.md"):
        return None
    return f"{page}#{rule_anchor(rule)}"


def rule_json(rule: Rule) -> dict[str, Any]:
    """A reportingDescriptor. GitHub code scanning shows `help` beside each alert (markdown where
    given), so the rule's whole documentation, its example and what to use instead, is there
    whether or not a helpUri can point at docs/rules.md."""
    doc = rule.doc
    markdown = (
        f"**{rule.id} {rule.name}** ({rule.severity.value})\n\n{doc.what}\n\n**Why is this bad?** {doc.why}\n\n"
        f"**Example**\n\n```\n{doc.bad}\n```\n\n**Use instead**\n\n```\n{doc.good}\n```\n\n**Fix:** {doc.fix}\n\n"
        f"Source: {rule.source}"
    )
    text = (
        f"{rule.id} {rule.name} ({rule.severity.value})\n\n{doc.what}\n\nWhy is this bad? {doc.why}\n\n"
        f"Example:\n\n{doc.bad}\n\nUse instead:\n\n{doc.good}\n\nFix: {doc.fix}\n\nSource: {rule.source}"
    )
    described: dict[str, Any] = {
        "id": rule.id,
        "name": _camel(rule.name),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc.what},
        "help": {"text": text, "markdown": markdown},
    }
    if help_uri(rule) is not None:
        described["helpUri"] = help_uri(rule)
    described["defaultConfiguration"] = {"level": _LEVELS[rule.severity]}
    described["properties"] = {"tags": ["security", "iam", "step-functions", "aws-batch"], "precision": "high"}
    return described


def repository_root(start: Path) -> Path | None:
    """The root of the git checkout `start` is in (the nearest directory with a .git), or None."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def artifact_uri(file: str, root: Path | None = None) -> str:
    """A file name as a SARIF artifact URI. GitHub resolves a relative URI from the repository
    root, so a file inside the checkout `root` is named relative to it (`infra/policy.json`, also
    when policygen ran in infra/ and was given `policy.json`); other paths stay as given, relative
    or as a file:// URI, with forward slashes and percent-encoding."""
    if root is not None and Path(file).exists():
        try:
            return quote(Path(file).resolve().relative_to(root).as_posix())
        except ValueError:
            pass
    path = file.replace("\\", "/")
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(str(PurePosixPath(path)).removeprefix("./"))


def location_json(location: Location, root: Path | None = None) -> dict[str, Any]:
    uri = artifact_uri(location.file, root)
    artifact = {"uri": uri} if uri.startswith("file://") else {"uri": uri, "uriBaseId": SOURCE_ROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if location.line is not None:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    result: dict[str, Any] = {"physicalLocation": physical}
    if location.pointer is not None:
        result["logicalLocations"] = [{"fullyQualifiedName": location.pointer or "/", "kind": "member"}]
    return result


def result_json(finding: Finding, rule_index: int, root: Path | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
    }
    if finding.location is not None:
        result["locations"] = [location_json(finding.location, root)]
    related = [location for location in finding.related if location != finding.location]
    if related:
        result["relatedLocations"] = [
            dict(location_json(location, root), id=index, message={"text": "the role's policy"})
            for index, location in enumerate(related)
        ]
    location = finding.location or Location("")
    identity = "\0".join((finding.rule.id, location.file, location.pointer or "", finding.message))
    result["partialFingerprints"] = {"policygenFinding/v1": hashlib.sha256(identity.encode()).hexdigest()[:32]}
    return result


def notification_json(notice: Notice, root: Path | None = None) -> dict[str, Any]:
    """An input left out, as one of the run's invocation.toolExecutionNotifications (SARIF 2.1.0)."""
    notification: dict[str, Any] = {"level": "warning", "message": {"text": notice.message}}
    if notice.location is not None:
        notification["locations"] = [location_json(notice.location, root)]
    return notification


def suppressed_json(entry: Suppressed, rule_index: int, root: Path | None = None) -> dict[str, Any]:
    """A finding an in-source suppression covers: a result with its `suppressions` (SARIF 2.1.0's
    result.suppressions), so a viewer knows it was reviewed and accepted rather than fixed."""
    suppression: dict[str, Any] = {"kind": "inSource", "location": location_json(entry.suppression.location, root)}
    if entry.suppression.reason is not None:
        suppression["justification"] = entry.suppression.reason
    return dict(result_json(entry.finding, rule_index, root), suppressions=[suppression])


def render_lint_sarif(findings: Sequence[Finding], skipped: Sequence[Notice] = (), suppressed: Sequence[Suppressed] = ()) -> str:
    rules = list(all_rules().values())
    index = {rule.id: position for position, rule in enumerate(rules)}
    root = repository_root(Path.cwd().resolve())
    log: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver_json(rules)},
                "originalUriBaseIds": {
                    SOURCE_ROOT: {"description": {"text": "The root of the git checkout policygen ran in, else its working directory."}}
                },
                "columnKind": "unicodeCodePoints",
                "results": [result_json(finding, index[finding.rule.id], root) for finding in findings]
                + [suppressed_json(entry, index[entry.finding.rule.id], root) for entry in suppressed],
            }
        ],
    }
    if skipped:  # the run still succeeded: the other inputs were linted
        log["runs"][0]["invocations"] = [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [notification_json(notice, root) for notice in skipped],
        }]
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
