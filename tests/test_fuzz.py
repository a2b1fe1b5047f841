"""Fuzzing the CLI with mutated fixtures: whatever the files hold, `scan`, `generate` and `lint`
succeed (exit 0, or 1 for lint findings) or fail with a one-line error and exit 2. Never an
internal error (exit 3), never a traceback, never output the terminal cannot encode, never more
than a few seconds.

Every fixture under fixtures/inputs/ and fixtures/lint/ is a starting point; each example applies
one to three mutations to one of its files (a definition, a policy or a trust policy): a key
deleted or renamed, a value turned into another JSON type, a string swapped for another one or
given odd characters, a piece of another fixture put in its place, a value nested deeply, the text
truncated or given bytes that are not UTF-8; a tenth of the runs also get odd option values.
The examples come from a fixed seed, so a run in CI is the same every time.

    POLICYGEN_FUZZ_EXAMPLES=2000 POLICYGEN_FUZZ_SEED=7 pytest tests/test_fuzz.py   # a longer hunt
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from policygen.cli import main
from policygen.load import load_document

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXAMPLES = int(os.environ.get("POLICYGEN_FUZZ_EXAMPLES", "500"))  # about 15 s on one free core
SEED = int(os.environ.get("POLICYGEN_FUZZ_SEED", "20261129"))
SECONDS_PER_RUN = 5.0  # generous for a shared 2-core machine; hostile input must not cost more
TARGET = ("--region", "us-east-1", "--account", "123456789012")


@dataclass(frozen=True)
class Case:
    """A fixture to start from: its directory is copied whole (SAM templates name files beside them)."""

    directory: Path
    definition: str  # relative to directory
    policies: tuple[str, ...] = ()
    trust: str | None = None
    args: tuple[str, ...] = TARGET
    role: Path | None = None  # a directory copied in as role/, for definitions without a role of their own

    @property
    def files(self) -> tuple[str, ...]:
        return (self.definition, *self.policies, *((self.trust,) if self.trust else ()))


# The role (policy and trust policy) linted beside the definitions of fixtures/inputs/.
ROLE = FIXTURES / "lint" / "mixed"


def _cases() -> list[Case]:
    cases = []
    for path in sorted((FIXTURES / "inputs").rglob("*")):
        if path.suffix in (".json", ".yaml", ".yml") and path.parent.name != "statemachine":
            args = ("--region", "us-gov-west-1", "--account", "123456789012") if "govcloud" in path.name else TARGET
            cases.append(Case(path.parent, path.name, ("role/role-policy.json",), "role/trust.json", args, role=ROLE))
    for directory in sorted((FIXTURES / "lint").glob("PG*/*")):
        if not directory.is_dir():
            continue  # the rule's expected.txt snapshot
        if (directory / "template.yaml").exists():
            cases.append(Case(directory, "template.yaml"))
            continue
        trust = "trust.json" if (directory / "trust.json").exists() else None
        args = tuple((directory / "args").read_text(encoding="utf-8").split()) if (directory / "args").exists() else TARGET
        cases.append(Case(directory, "definition.asl.json", ("policy.json",), trust, args))
    mixed = FIXTURES / "lint" / "mixed"
    cases.append(Case(mixed, "pipeline.asl.json", ("role-policy.json", "logs-policy.json"), "trust.json"))
    for template in sorted((FIXTURES / "lint" / "templates").glob("*.yaml")):
        cases.append(Case(template.parent, template.name))
    return cases


CASES = _cases()
# Cases by kind of input (fixtures/inputs/<kind>, a lint rule's case, a lint template): a kind is
# drawn first, so that the one Terraform plan is as likely as the many ASL files.
KINDS_OF_CASE: dict[str, list[Case]] = {}
for _case in CASES:
    _kind = _case.directory.name if _case.directory.parent.name == "inputs" else _case.directory.parent.name
    KINDS_OF_CASE.setdefault(_kind if not _kind.startswith("PG") else "lint-rules", []).append(_case)


# --- mutations


ODD = [
    "\n", "\r\n", "\t", "\x00", "\x1b[31m", "\u2028", "\ufeff", "\ud800", "${", "}", "'", '"', "`", "*", "?",
    ":", "/", "%", "{%", "%}", "$", "$.", "\\", "::", "é", "𝔘", "<", "&", "#", "- ", ": ", "!Ref ",
]
INTERESTING_STRINGS = [
    "", "*", "?", "~", "null", "true", "1e400", "$", "$.x", "$$.Execution.Id", "{% $x %}", "States.Format('{}', $.a)",
    "arn:aws:states:::batch:submitJob.sync", "arn:aws:states:::aws-sdk:batch:describeJobs", "arn:aws:states:::batch:*",
    "arn:aws:batch:us-east-1:123456789012:job-queue/*", "arn:aws:batch:*:*:job-queue/" + "*a" * 30 + "*b",
    "arn:aws-cn:batch:cn-north-1:123456789012:job-definition/d:1", "arn:aws:iam::123456789012:role/x", "${AWS::Region}",
    "${AWS::Partition}", "${Unknown}", "${aws:username}", "${*}", "Task", "Map", "Parallel", "Pass", "Choice",
    "batch:*", "batch:SubmitJob", "sts:AssumeRole", "states.amazonaws.com", "2012-10-17", "Allow", "Deny",
    "a" * 3000, "${" * 200, "{" * 100, "=", "q*" * 40,
]
NEST_DEPTHS = (2, 30, 400, 3000)
# Option values as odd as the files: a tenth of the generate runs get one.
ODD_TAGS = ["team=", "=x", "team=a=b", "aws:team=x", "team=x\ny", "t\u2028=x", "team=" + "x" * 300, "*=*", "team=${x}"]
ODD_TARGETS = [
    ("--region", "us-east-1\n", "--account", "123456789012"), ("--region", "", "--account", "123456789012"),
    ("--region", "*", "--account", "*"), ("--region", "us-east-1", "--account", "12345678901x"),
    ("--region", "us-gov-west-1", "--account", "123456789012", "--partition", "aws"),
    ("--region", "cn-north-1", "--account", "123456789012", "--partition", "aws-cn"),
    ("--region", "us-east-1", "--account", "123456789012", "--partition", "a\u202eb"),
]
# Where a mutation most likely reaches code that trusts a shape: most mutations land on one of
# these keys or just under one (a state is just under "States").
FOCUS = frozenset({
    "States", "StartAt", "Type", "Resource", "Parameters", "Arguments", "JobQueue", "JobDefinition", "JobName",
    "Tags", "ShareIdentifier", "SchedulingPriorityOverride", "ContainerOverrides", "ItemProcessor", "Iterator",
    "Branches", "QueryLanguage", "Statement", "Action", "NotAction", "NotResource", "Principal", "Condition",
    "Effect", "Version", "Definition", "DefinitionString", "DefinitionUri", "DefinitionSubstitutions", "RoleArn",
    "Role", "Policies", "PolicyDocument", "AssumeRolePolicyDocument", "ManagedPolicyArns", "Roles", "Properties",
    "resource_changes", "change", "after_unknown", "values", "definition", "address", "type", "stepFunctions",
    "stateMachines", "Resources", "Transform", "Fn::Sub", "Ref", "Fn::GetAtt", "Fn::If", "Fn::Join",
})
_NEST = "@@policygen-fuzz-nest@@"


@dataclass
class Mutated:
    """A document being mutated (mutations pile up here, so it is not frozen)."""

    data: Any
    log: list[str] = field(default_factory=list)
    nest: tuple[int, Any] | None = None  # a value to write nested this deep in place of _NEST
    text_edit: tuple[str, int, str] | None = None  # (kind, position, text) applied to the written text


def _paths(data: Any, limit: int = 3000) -> list[tuple[Any, ...]]:
    """Paths to every node, breadth first (the root is ())."""
    paths: list[tuple[Any, ...]] = [()]
    index = 0
    while index < len(paths) and len(paths) < limit:
        node = _get(data, paths[index])
        if isinstance(node, dict):
            paths.extend(paths[index] + (key,) for key in node)
        elif isinstance(node, list):
            paths.extend(paths[index] + (position,) for position in range(len(node)))
        index += 1
    return paths[:limit]


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(data, path[:-1])[path[-1]] = value
    return data


def _strings(data: Any) -> list[str]:
    found = []
    for path in _paths(data):
        node = _get(data, path)
        if isinstance(node, str):
            found.append(node)
        if path and isinstance(path[-1], str):
            found.append(path[-1])
    return found


def _retyped(node: Any, kind: str) -> Any:
    if kind == "dict":
        if isinstance(node, list):
            return {str(index): item for index, item in enumerate(node)}
        return {} if isinstance(node, dict) else {"value": node}
    if kind == "list":
        return list(node.values()) if isinstance(node, dict) else [] if isinstance(node, list) else [node]
    if kind == "string":
        return json.dumps(node, default=str) if not isinstance(node, str) else node + node
    return {
        "int": 5, "big": 10**30, "negative": -1, "float": 1.5, "nan": float("nan"), "infinity": float("inf"),
        "null": None, "true": True, "false": False,
    }[kind]


# Mutation kinds and how often each is picked: ones that keep the file readable come first, so
# that most examples get past parsing to the code behind it.
KINDS = {"retype": 4, "swap": 4, "odd": 3, "delete": 3, "rename": 3, "graft": 2, "copy": 1, "nest": 1, "text": 2}
TYPES = ["dict", "list", "string", "int", "big", "negative", "float", "nan", "infinity", "null", "true", "false"]


def mutate(data: Any, rnd: random.Random) -> Mutated:
    """One to three mutations of `data` (changed in place), each described in Mutated.log."""
    result = Mutated(data)
    for _ in range(rnd.randint(1, 3)):
        paths = _paths(result.data)
        # A focus key first, then a place at or just under it: "Principal" in a trust policy is
        # as likely as "Resource", which a template holds dozens of.
        focused: dict[str, list[tuple[Any, ...]]] = {}
        for candidate in paths:
            for step in candidate[-2:]:
                if isinstance(step, str) and step in FOCUS:
                    focused.setdefault(step, []).append(candidate)
        if focused and rnd.random() < 0.6:
            path = rnd.choice(focused[rnd.choice(sorted(focused))])
        else:
            path = rnd.choice(paths)
        kind = rnd.choices(list(KINDS), weights=list(KINDS.values()))[0]
        result.log.append(_apply(result, path, kind, rnd))
    return result


def _apply(result: Mutated, path: tuple[Any, ...], kind: str, rnd: random.Random) -> str:
    node = _get(result.data, path)
    where = "/" + "/".join(map(str, path))
    if kind == "delete" and path:
        del _get(result.data, path[:-1])[path[-1]]
        return f"delete {where}"
    if kind == "retype":
        target = rnd.choice(TYPES)
        result.data = _set(result.data, path, _retyped(node, target))
        return f"{where} -> {target}"
    if kind == "swap":
        choice = rnd.choice(_strings(result.data) or [""]) if rnd.random() < 0.5 else rnd.choice(INTERESTING_STRINGS)
        result.data = _set(result.data, path, choice)
        return f"{where} = {choice[:60]!r}"
    if kind == "odd" and isinstance(node, str):
        position, odd = rnd.randint(0, len(node)), rnd.choice(ODD)
        result.data = _set(result.data, path, node[:position] + odd + node[position:])
        return f"{where}: {odd!r} inserted at {position}"
    if kind == "rename" and path and isinstance(path[-1], str):
        name = path[-1]
        # None, 5 and True stay keys of those types in YAML (`~:`, `5:`); JSON writes them as strings.
        candidates = [name.lower(), name.upper(), name + rnd.choice(ODD), "", None, 5, True]
        new = rnd.choice(candidates) if rnd.random() < 0.7 else rnd.choice(_strings(result.data) or [""])
        parent = _get(result.data, path[:-1])
        parent[new] = parent.pop(name)
        return f"rename {where} to {new!r}"
    if kind == "nest":
        depth, shape = rnd.choice(NEST_DEPTHS), rnd.choice(["list", "dict"])
        if depth <= 30:
            for _ in range(depth):
                node = [node] if shape == "list" else {"a": node}
            result.data = _set(result.data, path, node)
        else:
            result.nest = (depth, (shape, node))
            result.data = _set(result.data, path, _NEST)
        return f"{where} nested in {depth} {shape}s"
    if kind == "graft":
        graft = copy.deepcopy(rnd.choice(_grafts()))
        result.data = _set(result.data, path, graft)
        return f"{where} = a piece of another fixture: {json.dumps(graft, default=str)[:80]}"
    if kind == "copy" and path:
        target = rnd.choice(_paths(result.data))
        if target and not _is_within(path, target):
            result.data = _set(result.data, target, json.loads(json.dumps(node, default=str)))
            return f"copy {where} to /{'/'.join(map(str, target))}"
    if kind == "text":
        edit = rnd.choice(["truncate", "insert-bytes", "insert-bytes", "insert-bytes", "bom", "empty"])
        # Bytes the parsers refuse: not UTF-8 (\xff, a lone \xc3), or control characters YAML forbids.
        result.text_edit = (edit, rnd.randrange(10**6), rnd.choice(["\xff", "\xc3", "\x00", "\x07", "\x1b", "\x7f"]))
        return f"text: {result.text_edit}"
    return f"{kind} {where}: not applicable"


@functools.lru_cache(maxsize=1)
def _grafts() -> list[Any]:
    """Pieces of every fixture (states, statements, resources, properties...) to put in odd places."""
    pieces = []
    for case in CASES:
        for name in case.files:
            path = (case.role if name.startswith("role/") else case.directory) / name.removeprefix("role/")
            data = load_document(str(path)).data
            pieces.extend(_get(data, p) for p in _paths(data, limit=400) if 1 <= len(p) <= 5 and isinstance(_get(data, p), (dict, list)))
    return pieces


def _is_within(path: tuple[Any, ...], target: tuple[Any, ...]) -> bool:
    return target[: len(path)] == path


def _write(path: Path, mutation: Mutated, ascii_only: bool) -> None:
    if path.suffix == ".json":
        text = json.dumps(mutation.data, indent=2, ensure_ascii=ascii_only, default=str)
        placeholder = json.dumps(_NEST)
    else:
        text = yaml.safe_dump(mutation.data, sort_keys=False, allow_unicode=not ascii_only, default_flow_style=False)
        placeholder = f"'{_NEST}'"
    if mutation.nest is not None:
        # Written as text: json.dumps and yaml.safe_dump recurse, and would stop at this depth.
        depth, (shape, node) = mutation.nest
        inner = json.dumps(node, default=str)
        nested = ("[" * depth + inner + "]" * depth) if shape == "list" else ('{"a":' * depth + inner + "}" * depth)
        text = text.replace(placeholder, nested, 1)
    raw = text.encode("utf-8", errors="surrogatepass")
    if mutation.text_edit is not None:
        kind, position, extra = mutation.text_edit
        position %= len(raw) + 1
        if kind == "truncate":
            raw = raw[:position]
        elif kind == "insert-bytes":
            raw = raw[:position] + extra.encode("latin-1", errors="replace") + raw[position:]
        elif kind == "bom":
            raw = "\ufeff".encode() + raw
        else:
            raw = b""
    path.write_bytes(raw)


# --- running the CLI in-process


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str
    seconds: float


def run_cli(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["policygen", *args]
    started = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = saved
    return Run(args, code, out.getvalue(), err.getvalue(), time.perf_counter() - started)


def check(run: Run) -> None:
    """The only outcomes allowed: success (0, or 1 for lint findings), or one error line and 2."""
    shown = f"policygen {' '.join(run.args)}\nexit {run.code}\nstderr: {run.err[-2000:]!r}"
    assert run.code in (0, 1, 2), shown
    assert "Traceback" not in run.err and "Traceback" not in run.out, shown
    for stream in (run.out, run.err):
        stream.encode("utf-8")  # what a UTF-8 terminal or file could not take would fail there
    if run.code == 2:
        assert run.err.endswith("\n") and run.err.split("\n")[-2].startswith("policygen: error: "), shown
    # Every line is policygen's own: only \n and \r start one on a terminal or in a CI log
    # (str.splitlines would also split at U+2028, which neither shows as a line break).
    err = run.err.replace("\r", "\n")
    assert err == "" or err.endswith("\n"), shown
    if "--fix" not in run.args:  # lint --fix writes its findings to stderr, the policy to stdout
        assert all(line.startswith("policygen: ") for line in err[:-1].split("\n") if err), shown
    assert run.seconds < SECONDS_PER_RUN, shown


def _commands(draw: st.DrawFn, case: Case, directory: Path) -> list[tuple[str, ...]]:
    definition = str(directory / case.definition)
    forced = [("--input-type", kind) for kind in ("asl", "cloudformation", "terraform-plan", "serverless")]
    input_type = draw(st.sampled_from([()] * 12 + forced))
    scan = ("scan", definition, "--format", draw(st.sampled_from(["table", "json"])), *input_type)
    mode = draw(st.sampled_from(["documented", "fine-grained"]))
    extra = draw(st.sampled_from([(), ("--merge",), ("--allow-untagged", "--tag", "team=x")])) if mode == "fine-grained" else ()
    if mode == "fine-grained" and draw(st.integers(0, 9)) == 0:
        extra += ("--tag", draw(st.sampled_from(ODD_TAGS)))
    target = case.args if draw(st.integers(0, 9)) else draw(st.sampled_from(ODD_TARGETS))
    generate = (
        "generate", definition, *target, "--mode", mode,
        "--format", draw(st.sampled_from(["json", "cloudformation", "cloudformation-json", "terraform"])), *extra, *input_type,
    )
    role: tuple[str, ...] = ()
    for policy in case.policies:
        role += ("--policy", str(directory / policy))
    if case.trust:
        role += ("--trust-policy", str(directory / case.trust))
    fix = ("--fix",) if role and draw(st.integers(0, 3)) == 0 else ()
    lint = ("lint", definition, *role, *case.args, "--format", draw(st.sampled_from(["text", "json", "sarif"])), *fix, *input_type)
    return [scan, generate, lint]


@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_mutated_fixtures_never_crash_the_cli(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(KINDS_OF_CASE)), label="kind of input")
    case = data.draw(st.sampled_from(KINDS_OF_CASE[kind]), label="case")
    with tempfile.TemporaryDirectory(prefix="policygen-fuzz-") as temporary:
        directory = Path(temporary) / "case"
        shutil.copytree(case.directory, directory)
        if case.role is not None:
            shutil.copytree(case.role, directory / "role")
        target = data.draw(st.sampled_from(case.files), label="mutated file")
        document = load_document(str(directory / target))
        mutation = mutate(document.data, data.draw(st.randoms(use_true_random=False), label="random"))
        note(f"mutations of {target}: {mutation.log}")
        _write(directory / target, mutation, ascii_only=data.draw(st.booleans(), label="ascii only"))
        for command in _commands(data.draw, case, directory):
            check(run_cli(*command))


# --- crashes the fuzz test found, each pinned down


def _plan_with_state_machine_change(field: str, value: Any) -> dict:
    """The fixture plan with one field of a state machine's change replaced: the change of one whose
    definition is only known after apply, so that the address is used."""
    plan = json.loads((FIXTURES / "inputs" / "terraform" / "plan.json").read_text(encoding="utf-8"))
    change = next(
        c for c in plan["resource_changes"]
        if c.get("type") == "aws_sfn_state_machine" and c["change"]["after_unknown"].get("definition") is True
    )
    change[field] = value
    return plan


def _error_line(run: Run) -> str:
    check(run)
    assert run.code == 2, run
    return run.err.splitlines()[-1]


def test_a_plan_whose_resource_change_is_a_list_or_string_is_an_input_error(tmp_path: Path) -> None:
    for value in (["create"], "create"):
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(_plan_with_state_machine_change("change", value)), encoding="utf-8")
        line = _error_line(run_cli("scan", str(path)))
        assert '"change" of a resource change must be an object' in line and "/resource_changes/" in line


def test_a_plan_whose_resource_change_address_is_not_a_string_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_plan_with_state_machine_change("address", {"a": 1})), encoding="utf-8")
    assert 'must have an "address" string' in _error_line(run_cli("generate", str(path), *TARGET))


def test_yaml_with_a_control_character_is_an_input_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "machine.asl.yaml"
    path.write_text('StartAt: A\nStates:\n  A: {Type: Pass, End: true, Comment: "x\x00y"}\n', encoding="utf-8")
    line = _error_line(run_cli("scan", str(path)))
    assert line == f"policygen: error: {path}:3:41: invalid YAML: character #x0000 is not allowed in YAML"
