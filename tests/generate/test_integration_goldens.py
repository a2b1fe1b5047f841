"""Goldens per integration, API and pattern: `policygen generate` on each one-state definition under
fixtures/inputs/integrations/<service>/ matches its reviewed policy and warnings byte for byte.

The goldens were read line by line against rules/integrations/<service>.yaml and the AWS pages it
cites (fixtures/expected/integrations/README.md says how); there is deliberately no way to regenerate them
from this suite. A table gaining an API or pattern without goldens fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.requirements.integrations import FieldResource, integration_table, optimized_services

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "fixtures" / "inputs" / "integrations"
EXPECTED = ROOT / "fixtures" / "expected" / "integrations"
TARGET_FLAGS = ("--region", "us-east-1", "--account", "123456789012")

INPUT_FILES = sorted(INPUTS.rglob("*.asl.json"))


def _name(path: Path) -> str:
    """`lambda/invoke.callback` for fixtures/inputs/integrations/lambda/invoke.callback.asl.json."""
    return path.relative_to(INPUTS).as_posix().removesuffix(".asl.json")


def _has_field_resource(api) -> bool:
    return any(
        isinstance(resource, FieldResource) or any(isinstance(value, dict) for _, _, value in grant.conditions)
        for grants in api.grants.values()
        for grant in grants
        for resource in grant.resources
    )


def _form_ids(api) -> set[str]:
    """The ids of the forms of every field resource of an API (README: "Forms")."""
    return {
        form.id
        for grants in api.grants.values()
        for grant in grants
        for resource in grant.resources
        if isinstance(resource, FieldResource)
        for form in resource.forms
    }


def _required_names() -> set[str]:
    """Every API and pattern of every table; a `.dynamic` variant where an argument names a
    resource or a condition, a `.role` variant where the state passes a role, a `.<form id>`
    variant per form a field's static value can take."""
    names = set()
    for service in optimized_services():
        table = integration_table(service)
        assert table is not None
        for api_name, api in table.apis.items():
            names |= {f"{service}/{api_name}.{pattern}" for pattern in api.patterns}
            if _has_field_resource(api):
                names.add(f"{service}/{api_name}.{api.patterns[0]}.dynamic")
            if api.pass_roles:
                names.add(f"{service}/{api_name}.{api.patterns[-1]}.role")
            names |= {f"{service}/{api_name}.{api.patterns[0]}.{form_id}" for form_id in _form_ids(api)}
    return names


def test_every_api_and_pattern_of_every_table_has_a_golden():
    inputs = {_name(path) for path in INPUT_FILES}
    missing = sorted(_required_names() - inputs)
    assert not missing, f"integration fixtures missing: {missing}"


def test_every_input_has_a_golden_and_every_golden_an_input():
    inputs = {_name(path) for path in INPUT_FILES}
    policies = {path.relative_to(EXPECTED).as_posix().removesuffix(".json") for path in EXPECTED.rglob("*.json")}
    warnings = {path.relative_to(EXPECTED).as_posix().removesuffix(".stderr") for path in EXPECTED.rglob("*.stderr")}
    assert inputs == policies == warnings


def test_every_input_calls_the_integration_its_name_says():
    for path in INPUT_FILES:
        service, _, rest = _name(path).partition("/")
        api, _, pattern = rest.partition(".")
        text = path.read_text(encoding="utf-8")
        if pattern:  # <api>.<pattern>[.<variant>]; the others are the tables' resource-arns
            suffix = {"request-response": "", "run-job": ".sync", "run-job-2": ".sync:2", "callback": ".waitForTaskToken"}[pattern.split(".")[0]]
            assert f'"Resource": "arn:aws:states:::{service}:{api}{suffix}"' in text, path


@pytest.mark.parametrize("path", INPUT_FILES, ids=_name)
def test_generate_matches_golden(path, run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)  # the warnings name the file as given, relative to the repository
    result = run_cli("generate", str(path.relative_to(ROOT)), *TARGET_FLAGS)
    assert result.code == 0, result.err
    assert result.out.encode("utf-8") == (EXPECTED / f"{_name(path)}.json").read_bytes()
    assert result.err.encode("utf-8") == (EXPECTED / f"{_name(path)}.stderr").read_bytes()


SUFFIXES = {"request-response": "", "run-job": ".sync", "run-job-2": ".sync:2", "callback": ".waitForTaskToken"}


def readme_integration_rows() -> list[str]:
    """The README's table of integrations, one row per table: its title, every API with the
    suffixes of its patterns, and its Step Functions page (the table's `connect-` source)."""
    import yaml

    rows = []
    for service in optimized_services():
        data = yaml.safe_load((ROOT / "rules" / "integrations" / f"{service}.yaml").read_text(encoding="utf-8"))
        calls = []
        for api, spec in data["apis"].items():
            suffixes = [SUFFIXES[pattern] for pattern in spec["patterns"]]
            shown = f"`{service}:{api}`" if "" in suffixes else f"`{service}:{api}{suffixes.pop(0)}`"
            extra = [f"`{suffix}`" for suffix in suffixes if suffix]
            calls.append(shown + (f" ({', '.join(extra)})" if extra else ""))
        page = next((url for key, url in data["sources"].items() if key.startswith("connect-")), None)
        assert page is not None, f"{service}.yaml cites no connect-<service> page for the README's table"
        rows.append(f"| {data['title']} | {', '.join(calls)} | [{page.rsplit('/', 1)[1].removesuffix('.html')}]({page}) |")
    return rows


def test_readme_lists_every_integration_with_its_apis_and_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for row in readme_integration_rows():
        assert row in readme, row
