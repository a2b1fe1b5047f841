"""`policygen lint`'s flow: the definitions and the role in, the findings (and with --fix the
corrected policy) out. Apart from pipeline.py so that `scan` and `generate` do not load it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policygen.errors import Notice, UsageError
from policygen.lint.findings import Finding
from policygen.lint.suppressions import Suppressed
from policygen.pipeline import Warn, load_state_machines, scan_machines, select_state_machines
from policygen.render.progress import Progress


@dataclass(frozen=True)
class LintRequest:
    """What `policygen lint` was asked: the definitions, the role (policy files or a live role), the
    target and what to report."""

    paths: tuple[str, ...]
    policies: tuple[str, ...] = ()
    trust_policy: str | None = None
    live_role: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str | None = None
    input_type: str | None = None
    substitutions: Mapping[str, str] = field(default_factory=dict)
    state_machines: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    config: str | None = None
    fix: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    fails: bool  # a finding at least as severe as --fail-on (or the configuration's fail-on)
    fixed: dict[str, Any] | None = None  # with --fix: the corrected policy
    skipped: tuple[Notice, ...] = ()  # inputs left out, for the report (they are also warned)
    suppressed: tuple[Suppressed, ...] = ()  # covered by a template's Metadata: reported, never failing


def lint_files(request: LintRequest, warn: Warn, progress: Progress | None = None) -> LintResult:
    """`policygen lint`: the findings for the role against the definitions' Task states, those
    ignored by --ignore or the configuration left out; with --fix, the corrected policy."""
    # Imported here: `scan` and `generate` do not pay for the linter (some 50 ms at start-up).
    from policygen.lint.config import check_rule_id, load_config
    from policygen.lint.fix import fixed_policy
    from policygen.lint.roles.files import load_role_files
    from policygen.lint.rules import Severity, all_rules
    from policygen.lint.run import run_lint
    from policygen.lint.suppressions import template_suppressions

    known = frozenset(all_rules())
    ignored = {check_rule_id(rule_id, known, "--ignore: ") for rule_id in request.ignore}
    config = load_config(request.config, known)
    _check_lint_inputs(request)
    loaded = load_state_machines(request.paths, request.input_type, request.substitutions, progress)
    warn(loaded.warnings)
    machines = select_state_machines(loaded.machines, request.state_machines)
    scanned = scan_machines(machines)
    # The machines' own features (a Distributed Map's reader, logging, X-Ray...) are linted as needs too.
    tasks, services = scanned.batch, (*scanned.services, *scanned.features)
    role = load_role_files(request.policies, request.trust_policy) if request.policies else None
    if request.live_role is not None:
        from policygen.lint.roles.live import read_live_role  # boto3: only for --role

        live = read_live_role(request.live_role, request.region)
        warn(live.notices)
        role = live.role
    report = run_lint(machines, tasks, role, request.region, request.account, request.partition, request.environment, services)
    warn(report.notices)
    findings = tuple(
        finding
        for finding in report.findings
        if finding.rule.id not in ignored
        and not config.ignores(
            finding.rule.id,
            [finding.location.file] * (finding.location is not None) + [ref.source for ref in finding.refs],
        )
    )
    # In-source suppressions (a template resource's Metadata) after --ignore and the configuration:
    # what they drop is still reported as suppressed, never counted towards --fail-on or --fix.
    suppressions = template_suppressions(machines, known)
    warn(suppressions.notices)
    findings, suppressed = suppressions.split(findings)
    fixed = None
    if request.fix:
        if len(report.units) != 1:
            raise UsageError(
                f"--fix writes one policy, and the input has {len(report.units)} roles to lint: pass --state-machine NAME"
            )
        fixed, notes = fixed_policy(report.units[0], findings)
        warn(notes)
    threshold = Severity(request.fail_on or config.fail_on or "error")
    fails = any(finding.severity.rank >= threshold.rank for finding in findings)
    return LintResult(findings, fails, fixed, loaded.skipped, suppressed)


def _check_lint_inputs(request: LintRequest) -> None:
    if request.live_role is not None and (request.policies or request.trust_policy is not None):
        raise UsageError("--role reads the role's policies and trust policy from AWS: give either --role or --policy/--trust-policy, not both")
    if request.trust_policy is not None and not request.policies:
        raise UsageError("--trust-policy goes with --policy (a template's roles bring their own trust policy)")
    if [*request.paths, *request.policies, request.trust_policy].count("-") > 1:
        raise UsageError("- (stdin) is given more than once: only one of the definitions, --policy and --trust-policy can be read from stdin")
