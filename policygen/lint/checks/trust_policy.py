"""The trust policy read as IAM reads it: its statements and principals; PG106 for open ones."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from policygen.iam.evaluate import statement_allows_action
from policygen.iam.policy import Effect, Statement, parse_policy, statement_items
from policygen.lint.findings import (
    STATES_PRINCIPAL,
    Finding,
    TrustPolicy,
    describe_statements,
    make_finding,
)

CONFUSED_DEPUTY_KEYS = ("aws:sourceaccount", "aws:sourcearn")  # docs/aws-facts.md#confused-deputy

# Step Functions assumes the role as states.amazonaws.com; IAM User Guide, "AWS service principals
# in opt-in Regions"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services-in-opt-in-regions):
# within its own Region a service presents its non-regional name, and only a cross-Region request
# from an opt-in Region presents service.<region>.amazonaws.com. A machine in region R therefore
# never presents another Region's name. The regional name of R itself is accepted: the Step
# Functions guide once told users to write states.<region>.amazonaws.com, and such roles work.
REGIONAL_STATES_PRINCIPAL = re.compile(r"^states\.([a-z0-9-]+)\.amazonaws\.com$")
# What the China partition's principals for Step Functions are is not documented as plainly.
_CHINA_STATES_PRINCIPAL = re.compile(r"^states(\.[a-z0-9-]+)?\.amazonaws\.com\.cn$")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
# Probe values for a part of the state machine's ARN that is not known: a one-character value
# and a longer one sharing no character with it or with the known parts of the ARN. A pattern
# that matches both matches every value; one that matches neither may still match the value the
# policy itself names, which is probed too (_harvest).
PROBES = ("q", "policygen-unknown")
# Condition values one trust policy may have evaluated, over all probes (some 30 microseconds
# each): beyond that, "cannot verify" rather than seconds of work on a crafted policy.
MAX_WORK = 20_000


@dataclass(frozen=True)
class _Principals:
    """A Principal or NotPrincipal element: everyone ("*", {"AWS": "*"}), and the service names."""

    everyone: bool
    services: tuple[str, ...]


@dataclass(frozen=True)
class TrustStatement:
    """A trust policy statement: whom it names, and the rest as an identity-policy statement
    (Resource "*") that evaluate.py judges."""

    statement: Statement
    principals: _Principals
    negated: bool  # NotPrincipal: every principal except those named

    def admits_states(self, region: str, partition: str) -> bool | str:
        """Whether the statement applies to Step Functions running in `region`; a reason when
        that cannot be known."""
        named = _names_states(self.principals, region, partition)
        if isinstance(named, str):
            return named
        return named != self.negated

    def may_admit_states(self, region: str | None, partition: str) -> bool:
        """Whether it may let Step Functions in: in `region`, or in some region when that is None."""
        if self.statement.effect is not Effect.ALLOW:
            return False
        if region is not None:
            return self.admits_states(region, partition) is not False
        if self.negated:
            return not self.principals.everyone and STATES_PRINCIPAL not in self.principals.services
        return self.principals.everyone or any(
            name == STATES_PRINCIPAL or REGIONAL_STATES_PRINCIPAL.match(name) or _CHINA_STATES_PRINCIPAL.match(name)
            for name in self.principals.services
        )

    def lets_anyone_in(self) -> bool:
        """An Allow for every principal (or every one but a few: NotPrincipal) without a condition."""
        if self.statement.effect is not Effect.ALLOW or self.statement.conditions:
            return False
        if self.negated:
            return not self.principals.everyone
        return self.principals.everyone


def _names_states(principals: _Principals, region: str, partition: str) -> bool | str:
    if principals.everyone:
        return True
    unsure = ""
    for name in principals.services:
        if name == STATES_PRINCIPAL:
            return True
        regional = REGIONAL_STATES_PRINCIPAL.match(name)
        if regional and regional[1] == region:
            return True
        if partition == "aws-cn" and _CHINA_STATES_PRINCIPAL.match(name):
            unsure = f"whether {name} is the principal Step Functions uses in the aws-cn partition is not documented"
    return unsure or False


def read_trust(trust: TrustPolicy) -> list[TrustStatement]:
    """Every statement of the trust policy, checked as IAM checks it: a malformed one is an
    InputError with its JSON pointer. A policy without Version is "2008-10-17", in which `${...}`
    is literal text (IAM User Guide, "IAM JSON policy elements: Version",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html)."""
    from policygen.errors import InputError

    data = trust.data
    items = _trust_statement_items(trust)
    principals: list[tuple[_Principals, bool]] = []
    kept: list[tuple[str, dict]] = []
    for _, pointer, item in items:
        element = [name for name in ("Principal", "NotPrincipal") if name in item]
        if len(element) != 1:
            message = "a trust policy statement takes Principal or NotPrincipal, not both" if element else (
                "a trust policy statement needs a Principal"
            )
            raise InputError(message, trust.locate(pointer + (f"/{element[1]}" if len(element) > 1 else "")))
        for resource in ("Resource", "NotResource"):
            if resource in item:
                # IAM refuses the role: "MalformedPolicyDocument: Has prohibited field Resource".
                raise InputError(f"a role trust policy has no {resource}: the role itself is the resource", trust.locate(f"{pointer}/{resource}"))
        name = element[0]
        principals.append((_parse_principals(item[name], f"{pointer}/{name}", trust), name == "NotPrincipal"))
        statement = {key: value for key, value in item.items() if key != name}
        condition = statement.get("Condition")
        if isinstance(condition, dict):
            # An operator with no keys tests nothing: {} and {"StringEquals": {}} are no condition.
            condition = {operator: keys for operator, keys in condition.items() if keys != {}}
            if condition:
                statement["Condition"] = condition
            else:
                del statement["Condition"]
        statement["Resource"] = "*"
        kept.append((pointer, statement))
    document: dict[str, Any] = {"Statement": [statement for _, statement in kept]}
    if "Version" in data:
        document["Version"] = data["Version"]
    parsed = parse_policy(document, trust.source, lambda pointer: trust.locate(_map_pointer(pointer, kept)))
    return [
        TrustStatement(statement, found, negated)
        for statement, (found, negated) in zip(parsed.statements, principals, strict=False)
    ]


def _parse_principals(value: Any, pointer: str, trust: TrustPolicy) -> _Principals:
    """"*", or {type: name or [names]} with the types IAM knows (IAM JSON reference, Principal)."""
    from policygen.errors import InputError
    from policygen.load.document import escape_pointer_token

    if value == "*":
        return _Principals(True, ())
    if not isinstance(value, dict) or not value:
        raise InputError('a principal must be "*" or an object of principal type -> names', trust.locate(pointer))
    names: dict[str, tuple[str, ...]] = {}
    for kind, listed in value.items():
        kind_pointer = f"{pointer}/{escape_pointer_token(kind)}"
        if kind not in _PRINCIPAL_TYPES:
            raise InputError(f"unknown principal type {kind!r} (one of {', '.join(_PRINCIPAL_TYPES)})", trust.locate(kind_pointer))
        entries = [listed] if isinstance(listed, str) else listed
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{kind} must be a string or a non-empty list of strings", trust.locate(kind_pointer))
        for index, entry in enumerate(entries):
            if not isinstance(entry, str):
                where = kind_pointer if isinstance(listed, str) else f"{kind_pointer}/{index}"
                raise InputError(f"{kind} entries must be strings", trust.locate(where))
        names[kind] = tuple(entries)
    return _Principals("*" in names.get("AWS", ()), names.get("Service", ()))


def _trust_statement_items(trust: TrustPolicy) -> list[tuple[int, str, dict]]:
    """(index, JSON pointer, statement) for each statement of the trust policy; a malformed trust
    policy is an InputError."""
    from policygen.errors import InputError

    data = trust.data
    if not isinstance(data, dict) or "Statement" not in data:
        raise InputError("a trust policy must be an object with a Statement", trust.locate(""))
    numbered = statement_items(data["Statement"])
    if numbered is None:
        raise InputError("Statement must be an object or a list of objects", trust.locate("/Statement"))
    for _, pointer, item in numbered:
        if not isinstance(item, dict):
            raise InputError("a statement must be an object", trust.locate(pointer))
    return numbered


def open_trust_statements(trust: TrustPolicy, statements: Sequence[TrustStatement]) -> Iterable[Finding]:
    """PG106: Allow statements that let everyone ("*", {"AWS": "*"}, or NotPrincipal: all but
    some) assume the role, with no condition (an empty Condition is none)."""
    for statement in statements:
        if statement.lets_anyone_in() and statement_allows_action(statement.statement, "sts:AssumeRole"):
            ref = statement.statement.ref
            yield make_finding("PG106", ref.location, {"statements": describe_statements((ref,))}, refs=(ref,))


def _map_pointer(pointer: str, kept: list[tuple[str, dict]]) -> str:
    match = re.match(r"^/Statement/(\d+)(.*)$", pointer)
    if not match:
        return pointer
    return kept[int(match[1])][0] + match[2]
