"""--terraform-provider: AWS provider v6 (the default) reads the region as data.aws_region.current.region,
v5 as data.aws_region.current.name (deprecated in v6); nothing else differs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_outputs import declared_data_sources

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    ("fixtures/inputs/asl/run-job.asl.json",),
    ("fixtures/inputs/cloudformation/definition-strings.json", "--mode", "fine-grained", "--allow-untagged"),
    ("fixtures/inputs/asl/run-job.asl.json", "--account", "123456789012"),
]
V6 = "${data.aws_region.current.region}"
V5 = "${data.aws_region.current.name}"


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("args", CASES)
def test_v6_by_default_and_v5_on_request_differ_only_in_the_region_attribute(run_cli, args):
    default = run_cli("generate", *args, "--format", "terraform")
    v6 = run_cli("generate", *args, "--format", "terraform", "--terraform-provider", "6")
    v5 = run_cli("generate", *args, "--format", "terraform", "--terraform-provider", "5")
    assert default.code == v6.code == v5.code == 0, (default.err, v5.err)
    assert default.out == v6.out
    assert V6 in v6.out and V5 not in v6.out and ".current.name" not in v6.out
    assert V5 in v5.out and V6 not in v5.out
    assert v5.out == v6.out.replace(V6, V5)
    assert declared_data_sources(v5.out) == declared_data_sources(v6.out) >= {"aws_region"}


def test_the_provider_matters_only_where_the_region_is_a_data_source(run_cli):
    args = ("generate", "fixtures/inputs/asl/run-job.asl.json", "--format", "terraform", "--region", "eu-west-1")
    v5 = run_cli(*args, "--account", "123456789012", "--terraform-provider", "5")
    v6 = run_cli(*args, "--account", "123456789012")
    assert v5.out == v6.out and "aws_region" not in v6.out and ":eu-west-1:" in v6.out


def test_only_policygens_own_region_is_respelled_and_a_literal_one_stays_text():
    from policygen.render.terraform import PSEUDO_REGION, hcl_value

    assert PSEUDO_REGION == V6
    assert hcl_value("a:" + PSEUDO_REGION, 5) == '"a:' + V5 + '"'
    assert hcl_value("a:" + PSEUDO_REGION, 6) == '"a:' + V6 + '"'
    for version in (5, 6):  # the same text from an input file is no interpolation of ours
        assert hcl_value("q-" + V5, version) == '"q-$' + V5 + '"'


def test_an_unknown_provider_version_is_a_usage_error(run_cli):
    result = run_cli("generate", "fixtures/inputs/asl/run-job.asl.json", "--format", "terraform", "--terraform-provider", "4")
    assert result.code == 2 and result.out == "" and "--terraform-provider" in result.err
