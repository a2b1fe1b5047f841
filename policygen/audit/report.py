"""The audit report in each format: text, JSON (docs/audit.md), SARIF 2.1.0 (findings located by
the state machine's ARN as a logical location), GitLab Code Quality."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from policygen import __version__
from policygen.audit.judge import UNREADABLE_RULE, AuditFinding, AuditReport
from policygen.errors import one_line

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "sarif", "gitlab")


def render_audit(report: AuditReport, output_format: str) -> str:
    if output_format == "json":
        return render_audit_json(report)
    if output_format == "sarif":
        return render_audit_sarif(report)
    if output_format == "gitlab":
        from policygen.render.gitlab import render_gitlab

        findings = report.findings
        return render_gitlab([item.finding for item in findings], lambda index, _: findings[index].resource)
    return render_audit_text(report)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counted(counts: dict[str, int]) -> str:
    parts = [_plural(count, name) for name, count in counts.items() if count]
    return ", ".join(parts) if parts else "clean"


def render_audit_text(report: AuditReport) -> str:
    lines = []
    for item in report.findings:
        finding = item.finding
        location = finding.location
        where = ""
        if location is not None and location.file != item.resource:
            where = f" {location.file}" + (f":{location.line}" if location.line is not None else "")
        elif location is not None and location.line is not None:
            where = f" line {location.line}"
        lines.append(one_line(f"{item.resource}:{where} {finding.rule.id} {finding.severity.value} {finding.message}"))
    if report.findings:
        lines.append("")
    for machine in report.machines:
        verdict = _counted(machine.counts)
        lines.append(one_line(f"{machine.arn}: {machine.status}" + ("" if verdict == "clean" else f", {verdict}")))
    summary = report.summary()
    lines.append(
        f"audit: {_plural(summary['listed'], 'state machine')} listed, {summary['audited']} audited, "
        f"{summary['unreadable']} unreadable; {_counted(summary['findings']).replace('clean', 'no findings')}"
    )
    return "\n".join(lines) + "\n"


def render_audit_json(report: AuditReport) -> str:
    from policygen.render.lint_json import finding_json

    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "policygen", "version": __version__},
        "summary": {**report.summary(), "accounts": list(report.accounts), "regions": list(report.regions)},
        "stateMachines": [_machine_json(result) for result in report.machines],
        "findings": [
            {"resource": item.resource, "apiCall": item.action, **finding_json(item.finding)} for item in report.findings
        ],
        "notices": [str(notice) for notice in report.notices],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _machine_json(result) -> dict[str, Any]:
    machine = result.machine
    return {
        "arn": result.arn,
        "status": result.status,
        "name": machine.name if machine else None,
        "account": machine.account if machine else None,
        "region": machine.region if machine else None,
        "type": machine.type if machine else None,
        "roleArn": machine.role_arn if machine else None,
        "loggingConfiguration": machine.logging if machine else None,
        "tracingConfiguration": machine.tracing if machine else None,
        "encryptionConfiguration": machine.encryption if machine else None,
        "findings": result.counts,
    }


def render_audit_sarif(report: AuditReport) -> str:
    from policygen.lint.rules import all_rules
    from policygen.render.lint_sarif import SARIF_SCHEMA, driver_json, result_json

    rules = [*all_rules().values(), UNREADABLE_RULE]
    index = {rule.id: position for position, rule in enumerate(rules)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver_json(rules)},
                "results": [_sarif_result(item, index[item.finding.rule.id], result_json) for item in report.findings],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _sarif_result(item: AuditFinding, rule_index: int, result_json) -> dict[str, Any]:
    result = result_json(item.finding, rule_index)
    result.pop("relatedLocations", None)  # physical locations of policies that are not files
    result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": item.resource, "kind": "resource"}]}]
    location = item.finding.location
    where: dict[str, Any] = {"apiCall": item.action}
    if location is not None:
        where.update(file=location.file, line=location.line, pointer=location.pointer)
    result["properties"] = {"policygen": where}
    identity = "\0".join((item.resource, item.finding.rule.id, where.get("file") or "", where.get("pointer") or "", item.finding.message))
    result["partialFingerprints"] = {"policygenAudit/v1": hashlib.sha256(identity.encode()).hexdigest()[:32]}
    return result
