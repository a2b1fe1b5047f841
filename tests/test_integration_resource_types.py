"""The integration tables against the Service Authorization Reference (rules/catalog/<prefix>.json):
every action a grant names can be allowed by one of the grant's resources. An action with no
resource type needs "*" (the reference: "If there is no value for this column, you must specify
all resources ("*")"); any other needs a resource that can name one of its resource types. A grant
that fails this would leave its call denied at run time however the state is written.
"""

from __future__ import annotations

import itertools
import json
import re
from functools import cache
from pathlib import Path

import pytest

from policygen.requirements.integrations import FieldResource, integration_table, optimized_services

ROOT = Path(__file__).resolve().parents[1]
# What `*` in a grant's resource may stand for when it is matched against a resource type's ARN.
WILDCARD_STANDS_FOR = ("x", "x/x", "x/x/x", "x/x/x/x", "x:x", "")
SAR_PART = {"${Partition}": "aws", "${Region}": "[a-z0-9-]+", "${Account}": "[0-9]*"}


@cache
def _catalog(prefix: str) -> dict:
    return json.loads((ROOT / "rules" / "catalog" / f"{prefix}.json").read_text(encoding="utf-8"))


def _resource_types(action: str) -> list[re.Pattern[str]]:
    prefix, name = action.split(":")
    catalog = _catalog(prefix)
    spec = next(spec for known, spec in catalog["actions"].items() if known.lower() == name.lower())
    types = {known.lower(): arn for known, arn in catalog["resourceTypes"].items()}
    return [_sar_regex(types[name.lower()]) for name in spec["resourceTypes"] if name.lower() in types] if spec["resourceTypes"] else []


def _sar_regex(template: str) -> re.Pattern[str]:
    return re.compile("".join(SAR_PART.get(part, ".+") if part.startswith("${") else re.escape(part) for part in re.split(r"(\$\{[^}]+\})", template)))


def _filled(text: str, value: str = "example") -> str:
    for name, part in (("partition", "aws"), ("region", "us-east-1"), ("account", "123456789012"), ("value", value)):
        text = text.replace("{" + name + "}", part)
    return text


def _forms(resource: str | FieldResource) -> list[str]:
    if isinstance(resource, str):
        return [_filled(resource)]
    return [_filled(resource.dynamic), *([_filled(resource.name)] if resource.name else [])]


def _can_name(resource: str, types: list[re.Pattern[str]]) -> bool:
    pieces = resource.split("*")
    for stand_ins in itertools.product(WILDCARD_STANDS_FOR, repeat=len(pieces) - 1):
        candidate = pieces[0] + "".join(stand_in + piece for stand_in, piece in zip(stand_ins, pieces[1:], strict=True))
        if any(pattern.fullmatch(candidate) for pattern in types):
            return True
    return False


def _statements():
    for service in optimized_services():
        table = integration_table(service)
        for api_name, api in table.apis.items():
            for pattern, grants in api.grants.items():
                for grant in grants:
                    yield f"{service}:{api_name} {pattern} {grant.sid}", grant


@pytest.mark.parametrize(("where", "grant"), list(_statements()), ids=lambda value: value if isinstance(value, str) else "")
def test_every_action_of_a_grant_can_be_allowed_by_one_of_its_resources(where, grant):
    forms = [form for resource in grant.resources for form in _forms(resource)]
    for action in grant.actions:
        types = _resource_types(action)
        if not types:
            assert "*" in forms, f"{where}: {action} has no resource type, so it needs \"*\", not {forms}"
        else:
            assert "*" in forms or any(_can_name(form, types) for form in forms), f"{where}: no resource of {forms} can name what {action} acts on"


# Values of every form's shape, as states send them: each form must match one (a new form adds its own).
FORM_SAMPLES = (
    "us.amazon.titan-v1",
    "xx.amazon.titan-v1",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.titan-v1",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/abc123",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
    "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
    "s3://my-bucket/prompts/in.json",
)


def _form_names():
    """(where, actions, name, form) for every name a field's form writes other than the value as written."""
    for where, grant in _statements():
        for resource in grant.resources:
            for form in resource.forms if isinstance(resource, FieldResource) else ():
                for name in form.names:
                    if name != "{value}":
                        yield f"{where} {resource.field} {form.id}", grant.actions, name, form


@pytest.mark.parametrize(("where", "actions", "name", "form"), list(_form_names()), ids=lambda value: value if isinstance(value, str) else "")
def test_every_name_a_form_writes_can_name_what_its_actions_act_on(where, actions, name, form):
    sample = next((value for value in FORM_SAMPLES if form.match.fullmatch(value)), None)
    assert sample is not None, f"{where}: no value of FORM_SAMPLES has this form's shape; add one"
    groups = form.match.fullmatch(sample).groupdict()
    filled = _filled(re.sub(r"\{(\w+)\}", lambda found: groups.get(found[1]) or found[0], name), sample)
    for action in actions:
        assert _can_name(filled, _resource_types(action)), f"{where}: {filled} names nothing {action} acts on"
