"""rules/compiled/: the JSON twins policygen reads instead of the rules' YAML, and what a JSON-only
run therefore never imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from policygen import rules_data
from policygen.rules_data import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
YAML_FILES = sorted(path.relative_to(RULES).as_posix() for folder in ("integrations", "lint") for path in (RULES / folder).glob("*.yaml"))
TWINS = sorted(path.relative_to(RULES / "compiled").as_posix() for path in (RULES / "compiled").rglob("*.json"))


def test_there_are_tables_and_rules_to_compile():
    assert "integrations/batch.yaml" in YAML_FILES and "lint/PG101.yaml" in YAML_FILES


@pytest.mark.parametrize("relative", YAML_FILES)
def test_every_twin_holds_its_yaml_data(relative):
    twin = RULES / "compiled" / Path(relative).with_suffix(".json")
    assert twin.is_file(), f"rules/{relative} has no twin: run python rules/compile.py"
    expected = yaml.safe_load((RULES / relative).read_text(encoding="utf-8"))
    assert json.loads(twin.read_text(encoding="utf-8")) == expected
    assert load_rules(relative) == expected


def test_no_twin_outlives_its_yaml():
    assert [twin for twin in TWINS if str(Path(twin).with_suffix(".yaml")) not in YAML_FILES] == []


def test_the_twins_are_what_the_script_writes():
    completed = subprocess.run(
        [sys.executable, str(RULES / "compile.py"), "--check"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert completed.returncode == 0, completed.stderr


def _compiler():
    sys.path.insert(0, str(RULES))
    try:
        import compile as compiler  # rules/compile.py, a script beside the data
    finally:
        sys.path.remove(str(RULES))
    return compiler


def test_the_check_names_missing_stale_and_orphaned_twins(tmp_path, monkeypatch, capsys):
    compiler = _compiler()
    monkeypatch.setattr(compiler, "HERE", tmp_path)
    monkeypatch.setattr(compiler, "COMPILED", tmp_path / "compiled")
    (tmp_path / "lint").mkdir()
    source = tmp_path / "lint" / "PG101.yaml"
    source.write_text("id: PG101\nname: first\n", encoding="utf-8")
    assert compiler.main(["--check"]) == 1 and "missing: compiled/lint/PG101.json" in capsys.readouterr().err
    assert compiler.main([]) == 0 and compiler.main(["--check"]) == 0
    assert json.loads((tmp_path / "compiled" / "lint" / "PG101.json").read_text(encoding="utf-8")) == {"id": "PG101", "name": "first"}
    source.write_text("id: PG101\nname: second\n", encoding="utf-8")
    (tmp_path / "compiled" / "lint" / "PG999.json").write_text("{}", encoding="utf-8")
    assert compiler.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "stale: compiled/lint/PG101.json" in err and "orphaned (its YAML is gone): compiled/lint/PG999.json" in err
    assert compiler.main([]) == 0 and compiler.main(["--check"]) == 0
    assert not (tmp_path / "compiled" / "lint" / "PG999.json").exists()


def test_the_script_refuses_data_json_would_change(tmp_path, monkeypatch):
    compiler = _compiler()
    source = tmp_path / "dated.yaml"
    source.write_text("verified: 2026-11-29\n", encoding="utf-8")
    monkeypatch.setattr(compiler, "HERE", tmp_path)
    with pytest.raises((TypeError, ValueError)):
        compiler.compile_text(source)
    source.write_text("codes:\n  200: ok\n", encoding="utf-8")
    with pytest.raises(ValueError, match="non-string key"):
        compiler.compile_text(source)


def test_load_rules_is_cached_and_keeps_the_yaml_order():
    first = load_rules("integrations/batch.yaml")
    assert load_rules("integrations/batch.yaml") is first
    order = list(yaml.safe_load((RULES / "integrations" / "batch.yaml").read_text(encoding="utf-8")))
    assert list(first) == order


@pytest.mark.parametrize("relative", ["../pyproject.toml", "/etc/passwd.yaml", "lint/PG101.json", "lint/../../x.yaml"])
def test_load_rules_refuses_paths_outside_the_rules(relative):
    with pytest.raises(ValueError, match="not a .yaml path inside rules/"):
        load_rules(relative)


def test_a_missing_twin_names_the_compile_step(tmp_path, monkeypatch):
    monkeypatch.setattr(rules_data, "rules_directory", lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match="run python rules/compile.py"):
        load_rules("integrations/no-such-service.yaml")


_MODULES_AFTER_RUN = """
import sys
from policygen.cli import main
sys.argv = ["policygen", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""


def _top_level_modules_after(*args: str) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _MODULES_AFTER_RUN, *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    return set(completed.stderr.splitlines()[-1].split())


def test_generate_from_json_to_json_imports_no_yaml_nor_templates():
    modules = _top_level_modules_after(
        "generate", "fixtures/examples/genomics-pipeline.asl.json", "--region", "us-east-1", "--account", "123456789012"
    )
    assert "policygen" in modules
    assert not modules & {"yaml", "jinja2", "boto3"}


def test_lint_of_json_files_imports_no_yaml():
    case = "fixtures/lint/PG101/bad"
    modules = _top_level_modules_after(
        "lint", f"{case}/definition.asl.json", "--policy", f"{case}/policy.json", "--region", "us-east-1", "--account", "123456789012"
    )
    assert "policygen" in modules
    assert "yaml" not in modules
