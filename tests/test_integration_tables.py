"""The integration tables (rules/integrations/<service>.yaml) follow the schema in
rules/integrations/README.md, cite their sources, and name only IAM actions that exist.

The tables are data the generator and linter will be written against, so this test reads them
with yaml and the action catalogue (rules/catalog/<prefix>.json) with json, not through policygen.
batch.yaml predates the schema and is checked by the Batch tests instead.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INTEGRATIONS = ROOT / "rules" / "integrations"
CATALOG = ROOT / "rules" / "catalog"
LEGACY_TABLES = {"batch.yaml"}
# Tables with a schema of their own, documented at the top of each file (what aws-sdk:<service>:<api>
# calls need, and what the state machine itself needs): checked generically below.
OWN_SCHEMA_TABLES = {"aws-sdk.yaml", "state-machine.yaml"}

PATTERNS = {"request-response", "run-job", "run-job-2", "callback"}
TOP_KEYS = {"service", "title", "sources", "apis"}
OPTIONAL_TOP_KEYS = {"resource-arns", "disputed"}
API_KEYS = {"patterns", "grants", "pass-role", "notice"}
GRANT_KEYS = {"sid", "actions", "resources", "conditions", "sources", "verified", "unverified", "why", "if-sent"}
RULE_KEYS = {"managed-rule", "sources", "verified", "unverified", "why"}
FIELD_RESOURCE_KEYS = {"field", "name", "url", "arn", "dynamic", "absent", "forms", "optional"}
FORM_KEYS = {"id", "match", "names", "note", "sources", "verified", "unverified"}
FORM_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
PASS_ROLE_KEYS = {"field", "name", "arn", "dynamic", "passed-to", "sources", "verified", "unverified", "why"}
SCOPE_PLACEHOLDERS = {"partition", "region", "account"}
SID = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
ACTION = re.compile(r"([a-z0-9-]+):([A-Za-z0-9]+)\Z")
MANAGED_RULE = re.compile(r"StepFunctionsGetEvents?For[A-Za-z0-9]+Rule\Z")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# A dotted argument path; [*] stands for every element of a list (Entries[*].EventBusName).
FIELD_PATH = re.compile(r"[A-Za-z][A-Za-z0-9]*(\[\*\])?(\.[A-Za-z][A-Za-z0-9]*(\[\*\])?)*\Z")
# AWS's own pages, and AWS's archived guide sources on GitHub (awsdocs).
SOURCE_URL = re.compile(r"https://(docs\.aws\.amazon\.com|docs\.amazonaws\.cn|github\.com/awsdocs)/\S+\Z")


def table_paths() -> list[Path]:
    return sorted(path for path in INTEGRATIONS.glob("*.yaml") if path.name not in LEGACY_TABLES | OWN_SCHEMA_TABLES)


@cache
def catalogued_actions(prefix: str) -> frozenset[str] | None:
    path = CATALOG / f"{prefix}.json"
    if not path.is_file():
        return None
    return frozenset(json.loads(path.read_text(encoding="utf-8"))["actions"])


def _text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _placeholders(text: str, where: str, allowed: set[str]) -> list[str]:
    unknown = sorted(set(PLACEHOLDER.findall(text)) - allowed)
    return [f"{where}: placeholder {{{name}}} not allowed here" for name in unknown]


def _arn_or_star(text: str, where: str, allowed: set[str]) -> list[str]:
    problems = _placeholders(text, where, allowed)
    if text != "*" and not text.startswith("arn:{partition}:") and text != "{resource}":
        problems.append(f"{where}: {text!r} is neither * nor an ARN starting arn:{{partition}}:")
    return problems


def _keys(node: object, where: str, required: set[str], optional: set[str]) -> list[str]:
    if not isinstance(node, dict):
        return [f"{where}: expected a mapping"]
    problems = [f"{where}: missing {key}" for key in sorted(required - node.keys())]
    problems += [f"{where}: unknown key {key}" for key in sorted(node.keys() - required - optional)]
    return problems


def _evidence(node: dict, where: str, sources: dict) -> list[str]:
    """Every fact names sources that exist in the file and says whether it was checked."""
    problems = []
    cited = node.get("sources")
    if not isinstance(cited, list) or not cited:
        problems.append(f"{where}: sources must be a non-empty list")
    else:
        problems += [f"{where}: source {s!r} not in the file's sources" for s in cited if s not in sources]
    has = [key for key in ("verified", "unverified") if key in node]
    if len(has) != 1:
        problems.append(f"{where}: needs exactly one of verified / unverified (has {has or 'neither'})")
    elif not _text(node[has[0]]):
        problems.append(f"{where}: {has[0]} must say what was read, where (or why not)")
    return problems


def _forms(forms: object, where: str, sources: dict) -> list[str]:
    """README "Forms": each a kebab-case id, a regular expression, names built from the
    placeholders and its groups, and its evidence."""
    if not isinstance(forms, list) or not forms:
        return [f"{where}: forms must be a non-empty list"]
    problems = []
    ids = [form.get("id") for form in forms if isinstance(form, dict)]
    problems += [f"{where}: form id {form_id!r} repeats" for form_id in sorted({i for i in ids if ids.count(i) > 1}, key=str)]
    for index, form in enumerate(forms):
        at = f"{where}[{index}]"
        found = _keys(form, at, {"id", "match", "names", "sources"}, FORM_KEYS)
        if found:
            problems += found
            continue
        if not (isinstance(form["id"], str) and FORM_ID.match(form["id"])):
            problems.append(f"{at}: id must be kebab-case")
        try:
            groups = set(re.compile(form["match"]).groupindex)
        except (re.error, TypeError) as error:
            problems.append(f"{at}: match is not a regular expression ({error})")
            continue
        problems += [f"{at}: group {{{group}}} is named like a placeholder" for group in sorted(groups & (SCOPE_PLACEHOLDERS | {"value"}))]
        allowed = SCOPE_PLACEHOLDERS | {"value"} | groups
        names = form["names"]
        if not isinstance(names, list) or not names or not all(_text(name) for name in names):
            problems.append(f"{at}: names must be a non-empty list of resources")
            names = []
        for name in names:
            if name != "{value}":
                problems += _arn_or_star(name, f"{at}.names", allowed)
        if "note" in form:
            problems += _placeholders(form["note"], f"{at}.note", allowed) if _text(form["note"]) else [f"{at}: note must be a sentence"]
        problems += _evidence(form, at, sources)
    return problems


def _field_resource(resource: dict, where: str, sources: dict | None = None) -> list[str]:
    problems = _keys(resource, where, {"field", "arn", "dynamic"}, FIELD_RESOURCE_KEYS - {"field", "arn", "dynamic"})
    if problems:
        return problems
    if not (isinstance(resource["field"], str) and FIELD_PATH.match(resource["field"])):
        problems.append(f"{where}: field must be a dotted argument path")
    if not isinstance(resource["arn"], bool):
        problems.append(f"{where}: arn must be true or false")
    if "optional" in resource and (resource["optional"] is not True or "absent" in resource):
        problems.append(f"{where}: optional is true when present, and a field with an `absent` name is not optional")
    if "name" not in resource and resource["arn"] is not True and not resource.get("forms"):
        problems.append(f"{where}: a field that holds neither a name, an ARN nor a value of a form cannot name a resource")
    for key in ("name", "url"):
        if key in resource:
            text = resource[key]
            if not _text(text) or "{value}" not in text:
                problems.append(f"{where}: {key} must contain {{value}}")
            else:
                problems += _placeholders(text, f"{where}.{key}", SCOPE_PLACEHOLDERS | {"value"})
    if "url" in resource and "name" not in resource:
        problems.append(f"{where}: url needs name (the ARN its parts fill)")
    if "name" in resource and _text(resource["name"]):
        problems += _arn_or_star(resource["name"], f"{where}.name", SCOPE_PLACEHOLDERS | {"value"})
    if not _text(resource["dynamic"]):
        problems.append(f"{where}: dynamic must be the documented fallback")
    else:
        problems += _arn_or_star(resource["dynamic"], f"{where}.dynamic", SCOPE_PLACEHOLDERS)
    if "forms" in resource:
        problems += _forms(resource["forms"], f"{where}.forms", sources or {})
    return problems


def _conditions(conditions: object, where: str, allowed: set[str]) -> list[str]:
    if not isinstance(conditions, dict):
        return [f"{where}: conditions must be a mapping"]
    problems = []
    for operator, block in conditions.items():
        if not isinstance(block, dict) or not block:
            problems.append(f"{where}.{operator}: expected a mapping of condition keys")
            continue
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, dict):
                    # {field: X}: the condition takes the static value of the state's argument X.
                    if set(item) != {"field"} or not (isinstance(item["field"], str) and FIELD_PATH.match(item["field"])):
                        problems.append(f"{where}.{operator}.{key}: a mapping value must be {{field: <argument>}}")
                elif _text(item):
                    problems += _placeholders(item, f"{where}.{operator}.{key}", allowed)
                else:
                    problems.append(f"{where}.{operator}.{key}: empty condition value")
    return problems


def _grant(grant: object, where: str, sources: dict, allowed: set[str]) -> list[str]:
    if isinstance(grant, dict) and "managed-rule" in grant:
        problems = _keys(grant, where, {"managed-rule", "sources"}, RULE_KEYS - {"managed-rule", "sources"})
        if not (isinstance(grant.get("managed-rule"), str) and MANAGED_RULE.match(grant["managed-rule"])):
            problems.append(f"{where}: managed-rule must be a StepFunctionsGetEvent(s)For...Rule name")
        return problems + (_evidence(grant, where, sources) if isinstance(grant, dict) else [])
    problems = _keys(grant, where, {"sid", "actions", "resources", "sources", "why"}, GRANT_KEYS)
    if problems and not isinstance(grant, dict):
        return problems
    if not (isinstance(grant.get("sid"), str) and SID.match(grant["sid"])):
        problems.append(f"{where}: sid must be PascalCase")
    if "if-sent" in grant and not (isinstance(grant["if-sent"], str) and re.fullmatch(r"[A-Z][A-Za-z0-9]*", grant["if-sent"])):
        problems.append(f"{where}: if-sent names one top-level argument, e.g. Tags")
    actions = grant.get("actions")
    if not isinstance(actions, list) or not actions:
        problems.append(f"{where}: actions must be a non-empty list")
    else:
        problems += [f"{where}: action {a!r} is not prefix:Action" for a in actions if not (isinstance(a, str) and ACTION.match(a))]
    resources = grant.get("resources")
    if not isinstance(resources, list) or not resources:
        problems.append(f"{where}: resources must be a non-empty list")
    else:
        for index, resource in enumerate(resources):
            at = f"{where}.resources[{index}]"
            if isinstance(resource, str):
                problems += _arn_or_star(resource, at, allowed)
            else:
                problems += _field_resource(resource, at, sources)
    if "conditions" in grant:
        problems += _conditions(grant["conditions"], f"{where}.conditions", SCOPE_PLACEHOLDERS)
    if not _text(grant.get("why")):
        problems.append(f"{where}: why must say why Step Functions needs it")
    return problems + _evidence(grant, where, sources)


def _pass_role(entry: object, where: str, sources: dict) -> list[str]:
    problems = _keys(entry, where, {"field", "dynamic", "sources"}, PASS_ROLE_KEYS)
    if not isinstance(entry, dict):
        return problems
    resource = {key: entry[key] for key in FIELD_RESOURCE_KEYS if key in entry}
    resource.setdefault("arn", False)
    if "name" not in resource and resource["arn"] is False:
        # A field that names no role (an instance profile): only the fallback can be granted.
        resource["name"] = "arn:{partition}:iam::{account}:role/{value}"
    problems += [p for p in _field_resource(resource, where) if "missing" not in p]
    if "passed-to" in entry and not (_text(entry["passed-to"]) and entry["passed-to"].endswith(".amazonaws.com")):
        problems.append(f"{where}: passed-to must be a service principal (….amazonaws.com)")
    return problems + _evidence(entry, where, sources)


def _grant_lists(table: dict):
    """(where, grant list, allowed placeholders) for every list of grants in a table."""
    for api, spec in (table.get("apis") or {}).items():
        if isinstance(spec, dict) and isinstance(spec.get("grants"), dict):
            for pattern, grants in spec["grants"].items():
                yield f"apis.{api}.grants.{pattern}", grants, SCOPE_PLACEHOLDERS
    for index, entry in enumerate(table.get("resource-arns") or []):
        if isinstance(entry, dict):
            yield f"resource-arns[{index}].grants", entry.get("grants"), SCOPE_PLACEHOLDERS | {"resource"}


def schema_problems(table: object, stem: str) -> list[str]:
    """Everything in one table that breaks the schema (empty when it follows it)."""
    problems = _keys(table, stem, TOP_KEYS, OPTIONAL_TOP_KEYS)
    if not isinstance(table, dict):
        return problems
    if table.get("service") != stem:
        problems.append(f"{stem}: service {table.get('service')!r} must match the file name")
    if not _text(table.get("title")):
        problems.append(f"{stem}: title must be a non-empty string")
    sources = table.get("sources")
    if not isinstance(sources, dict) or not sources:
        problems.append(f"{stem}: sources must map ids to AWS page URLs")
        sources = {}
    problems += [f"sources.{key}: {url!r} is not an AWS documentation URL (docs.aws.amazon.com, docs.amazonaws.cn, github.com/awsdocs)" for key, url in sources.items()
                 if not (isinstance(url, str) and SOURCE_URL.match(url))]
    apis = table.get("apis")
    if not isinstance(apis, dict) or not apis:
        problems.append(f"{stem}: apis must be a non-empty mapping")
        apis = {}
    for api, spec in apis.items():
        where = f"apis.{api}"
        found = _keys(spec, where, {"patterns", "grants"}, API_KEYS)
        problems += found
        if not isinstance(spec, dict) or found:
            continue
        patterns = spec["patterns"]
        if not isinstance(patterns, list) or not patterns or len(set(patterns)) != len(patterns):
            problems.append(f"{where}: patterns must be a non-empty list without repeats")
            continue
        problems += [f"{where}: unknown pattern {p!r}" for p in patterns if p not in PATTERNS]
        if not isinstance(spec["grants"], dict) or set(spec["grants"]) != set(patterns):
            problems.append(f"{where}: grants must have exactly one entry per pattern {sorted(patterns)}")
        for index, entry in enumerate(spec.get("pass-role") or []):
            problems += _pass_role(entry, f"{where}.pass-role[{index}]", sources)
    for index, entry in enumerate(table.get("resource-arns") or []):
        where = f"resource-arns[{index}]"
        problems += _keys(entry, where, {"match", "grants"}, {"dynamic"})
        if isinstance(entry, dict) and _text(entry.get("match")):
            problems += _arn_or_star(entry["match"], f"{where}.match", SCOPE_PLACEHOLDERS)
    for where, grants, allowed in _grant_lists(table):
        # An empty list is a documented "needs nothing from the execution role" (e.g. EKS RBAC).
        if not isinstance(grants, list):
            problems.append(f"{where}: expected a list of grants")
            continue
        for index, grant in enumerate(grants):
            problems += _grant(grant, f"{where}[{index}]", sources, allowed)
    for index, entry in enumerate(table.get("disputed") or []):
        where = f"disputed[{index}]"
        problems += _keys(entry, where, {"about", "sources", "choice"}, set())
        if isinstance(entry, dict) and isinstance(entry.get("sources"), dict):
            problems += [f"{where}: source {s!r} not in the file's sources" for s in entry["sources"] if s not in sources]
    return problems + sid_problems(table)


def sid_problems(table: dict) -> list[str]:
    """A sid names one grant: it may repeat across patterns only for the very same grant."""
    seen: dict[str, dict] = {}
    problems = []
    for where, grants, _ in _grant_lists(table):
        for grant in grants if isinstance(grants, list) else []:
            if isinstance(grant, dict) and "sid" in grant:
                first = seen.setdefault(grant["sid"], grant)
                if first != grant:
                    problems.append(f"{where}: sid {grant['sid']} names two different grants")
    return problems


def action_problems(table: dict) -> list[str]:
    """IAM actions the Service Authorization Reference (rules/catalog/<prefix>.json) does not list."""
    problems = []
    for where, grants, _ in _grant_lists(table):
        for index, grant in enumerate(grants if isinstance(grants, list) else []):
            at = f"{where}[{index}]"
            for action in (grant.get("actions") or []) if isinstance(grant, dict) else []:
                match = ACTION.match(action) if isinstance(action, str) else None
                if not match:
                    continue
                known = catalogued_actions(match.group(1))
                if known is None:
                    problems.append(f"{at}: no catalogue rules/catalog/{match.group(1)}.json (run rules/catalog/refresh.py)")
                elif match.group(2) not in known:
                    problems.append(f"{at}: {action} is not in the Service Authorization Reference")
    return problems


def load(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_there_are_tables_to_check():
    assert table_paths(), "no rules/integrations/*.yaml besides batch.yaml"


@pytest.mark.parametrize("path", table_paths(), ids=lambda p: p.name)
def test_table_follows_the_schema(path: Path):
    assert schema_problems(load(path), path.stem) == []


@pytest.mark.parametrize("path", table_paths(), ids=lambda p: p.name)
def test_table_names_only_actions_that_exist(path: Path):
    assert action_problems(load(path)) == []


@pytest.mark.parametrize("path", table_paths(), ids=lambda p: p.name)
def test_managed_rules_and_pass_roles_have_their_actions_catalogued(path: Path):
    table = load(path)
    text = path.read_text(encoding="utf-8")
    if "managed-rule:" in text:
        assert {"PutRule", "PutTargets", "DescribeRule"} <= catalogued_actions("events")
    if any(isinstance(spec, dict) and spec.get("pass-role") for spec in table["apis"].values()):
        assert "PassRole" in catalogued_actions("iam")


# The checks themselves: each breaks a real table in one way and must see it.

@pytest.fixture
def ecs() -> dict:
    return copy.deepcopy(load(INTEGRATIONS / "ecs.yaml"))


def _grant_of(table: dict) -> dict:
    """Run a Job's own grant (no YAML anchor shares it with another pattern)."""
    return next(grant for grant in table["apis"]["runTask"]["grants"]["run-job"] if grant.get("sid") == "EcsRunTaskSync")


def test_a_good_table_has_no_problems(ecs):
    assert schema_problems(ecs, "ecs") == [] and action_problems(ecs) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda t: t.pop("title"), "missing title"),
        (lambda t: t.update(extra=1), "unknown key extra"),
        (lambda t: t["apis"]["runTask"]["patterns"].append("fire-and-forget"), "unknown pattern"),
        (lambda t: t["apis"]["runTask"]["grants"].pop("callback"), "exactly one entry per pattern"),
        (lambda t: _grant_of(t).update(sources=["nowhere"]), "source 'nowhere' not in the file's sources"),
        (lambda t: _grant_of(t).update(unverified="also"), "exactly one of verified / unverified"),
        (lambda t: _grant_of(t).pop("verified"), "exactly one of verified / unverified"),
        (lambda t: _grant_of(t).update(resources=["arn:{partition}:ecs:{region}:{acct}:task/*"]), "placeholder {acct}"),
        (lambda t: _grant_of(t).update(resources=["arn:aws:ecs:{region}:{account}:task/*"]), "neither * nor an ARN"),
        (lambda t: _grant_of(t).update(sid="ecs-sync"), "sid must be PascalCase"),
        (lambda t: _grant_of(t).update(sid="EcsRunTask"), "sid EcsRunTask names two different grants"),
        (lambda t: t["apis"]["runTask"]["pass-role"][0].update(dynamic=""), "dynamic must be the documented fallback"),
        (lambda t: t["apis"]["runTask"]["pass-role"][0].pop("sources"), "missing sources"),
        (lambda t: t["apis"]["runTask"]["grants"]["run-job"][2].update({"managed-rule": "MyRule"}), "managed-rule must be"),
        (lambda t: t["sources"].update(blog="https://example.com/post"), "is not an AWS documentation URL"),
        (lambda t: t["sources"].update(fork="https://github.com/someone/aws-docs"), "is not an AWS documentation URL"),
        (lambda t: t["apis"]["runTask"]["grants"].update(callback=None), "expected a list of grants"),
        (lambda t: t["apis"]["runTask"]["pass-role"][0].update(field="Overrides..TaskRoleArn"), "field must be a dotted argument path"),
        (lambda t: t["apis"]["runTask"]["pass-role"][0].update({"passed-to": "ecs-tasks"}), "passed-to must be a service principal"),
        (lambda t: t.update(service="fargate"), "must match the file name"),
    ],
)
def test_schema_check_catches(ecs, break_it, expected):
    break_it(ecs)
    problems = schema_problems(ecs, "ecs")
    assert any(expected in problem for problem in problems), problems


@pytest.fixture
def bedrock() -> dict:
    return copy.deepcopy(load(INTEGRATIONS / "bedrock.yaml"))


def _form_of(table: dict) -> dict:
    return table["apis"]["invokeModel"]["grants"]["request-response"][0]["resources"][0]["forms"][0]


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda t: _form_of(t).update(match="(?P<geography>us|eu"), "match is not a regular expression"),
        (lambda t: _form_of(t).update(match="(?P<value>us)\\..+"), "named like a placeholder"),
        (lambda t: _form_of(t)["names"].append("arn:{partition}:bedrock:*::foundation-model/{modle}"), "placeholder {modle} not allowed"),
        (lambda t: _form_of(t).update(note="is {profile}"), "placeholder {profile} not allowed"),
        (lambda t: _form_of(t).update(names=["arn:aws:bedrock:*::foundation-model/{model}"]), "neither * nor an ARN"),
        (lambda t: _form_of(t).update(id="System Profile"), "id must be kebab-case"),
        (lambda t: _form_of(t).pop("verified"), "exactly one of verified / unverified"),
        (lambda t: _form_of(t).update(sources=["nowhere"]), "source 'nowhere' not in the file's sources"),
        (lambda t: _form_of(t).update(extra=1), "unknown key extra"),
    ],
)
def test_schema_check_catches_a_bad_form(bedrock, break_it, expected):
    assert schema_problems(bedrock, "bedrock") == []
    break_it(bedrock)
    problems = schema_problems(bedrock, "bedrock")
    assert any(expected in problem for problem in problems), problems


def test_action_check_catches_an_action_aws_does_not_define(ecs):
    _grant_of(ecs)["actions"].append("ecs:StopAllTasks")
    assert action_problems(ecs) == ["apis.runTask.grants.run-job[2]: ecs:StopAllTasks is not in the Service Authorization Reference"]


def test_action_check_catches_a_service_without_catalogue(ecs):
    _grant_of(ecs)["actions"].append("nosuchservice:DoIt")
    assert any("rules/catalog/nosuchservice.json" in p for p in action_problems(ecs))


def _docs_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("integration_docs", INTEGRATIONS / "docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_page_is_generated_from_the_tables():
    committed = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    assert committed == _docs_module().render(), "run: python rules/integrations/docs.py > docs/integrations.md"


def test_docs_page_has_a_row_per_api_and_pattern():
    rendered = _docs_module().render()
    for path in table_paths():
        table = load(path)
        for api, spec in table["apis"].items():
            for pattern in spec["patterns"]:
                suffix = {"request-response": "", "run-job": ".sync", "run-job-2": ".sync:2", "callback": ".waitForTaskToken"}[pattern]
                assert f"`arn:aws:states:::{table['service']}:{api}{suffix}`" in rendered


def _refresh_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("catalog_refresh", CATALOG / "refresh.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refresh_catalogues_every_service_a_table_names(tmp_path):
    (tmp_path / "one.yaml").write_text(
        "apis:\n  x:\n    grants:\n      run-job:\n        - {sid: A, actions: [Foo-Bar:DoIt, '{action}']}\n"
        "        - {managed-rule: StepFunctionsGetEventsForXRule}\n    pass-role: [{field: RoleArn}]\n",
        encoding="utf-8",
    )
    assert _refresh_module().integration_services(tmp_path) == ["events", "foo-bar", "iam"]


def test_every_service_the_tables_name_has_a_catalogue():
    missing = [s for s in _refresh_module().integration_services() if catalogued_actions(s) is None]
    assert missing == [], "run: python rules/catalog/refresh.py"


def _facts(node: object):
    """Every mapping in a table that carries `actions` or `sources` (a fact), depth first."""
    if isinstance(node, dict):
        if "actions" in node or ("sources" in node and not isinstance(node["sources"], dict)):
            yield node
        for value in node.values():
            yield from _facts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _facts(value)


@pytest.mark.parametrize("name", sorted(OWN_SCHEMA_TABLES))
def test_own_schema_table_names_catalogued_actions_and_its_sources(name: str):
    table = load(INTEGRATIONS / name)
    sources = table["sources"]
    assert all(SOURCE_URL.match(url) for url in sources.values())
    problems = []
    facts = list(_facts(table))
    assert facts
    for fact in facts:
        for action in fact.get("actions", []):
            match = ACTION.match(action)
            names = catalogued_actions(match[1]) if match else None
            if names is None or match[2] not in names:
                problems.append(f"{name}: {action} is not in rules/catalog/")
        for source in fact.get("sources", []):
            if source not in sources:
                problems.append(f"{name}: source {source!r} is not in the file's sources")
        if ("verified" in fact) == ("unverified" in fact):
            problems.append(f"{name}: {fact.get('sid') or fact.get('api') or fact}: needs verified or unverified")
    assert problems == []
