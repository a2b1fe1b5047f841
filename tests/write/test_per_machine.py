"""-o DIR one input file at a time (policygen.per_machine): each file is dropped before the next is
read, the directory is still written whole or not at all, and what a user sees (files, warnings,
the error of several) is what the whole-input flow shows."""

from __future__ import annotations

import json
import os
import weakref
from pathlib import Path

import pytest
from test_cli import assert_input_error

from policygen import pipeline
from policygen.errors import UsageError
from policygen.write.directory import DirectoryWriter

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "fixtures" / "inputs" / "asl"
BAD = ROOT / "fixtures" / "inputs" / "bad"
CFN = ROOT / "fixtures" / "inputs" / "cloudformation"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
SEVERAL = [str(ASL / name) for name in ("callback.asl.json", "run-job.asl.json", "no-batch.asl.json", "sdk.asl.json")]


def _listing(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def _existing(tmp_path: Path) -> Path:
    out = tmp_path / "policies"
    out.mkdir()
    (out / "callback.json").write_text("old")
    (out / "unrelated.txt").write_text("not ours")
    return out


# --- all or nothing ------------------------------------------------------------------------------


def test_a_bad_last_input_leaves_no_new_directory(run_cli, tmp_path):
    out = tmp_path / "policies"
    result = run_cli("generate", *SEVERAL, str(BAD / "state-type-unknown.asl.json"), *TARGET, "-o", str(out))
    assert_input_error(result, "state-type-unknown.asl.json", "\"Type\" must be one of")
    assert list(tmp_path.iterdir()) == []  # neither the directory nor its temporary


def test_a_bad_last_input_leaves_an_existing_directory_untouched(run_cli, tmp_path):
    out = _existing(tmp_path)
    before = _listing(out)
    result = run_cli("generate", *SEVERAL, str(BAD / "state-type-unknown.asl.json"), *TARGET, "-o", str(out))
    assert_input_error(result, "state-type-unknown.asl.json")
    assert _listing(out) == before  # nothing replaced, no temporary left beside the files


def test_an_error_after_the_last_input_leaves_nothing(run_cli, tmp_path):
    """Two machines for one file, found at the last input once the others are written."""
    twin = tmp_path / "inputs" / "callback.asl.json"
    twin.parent.mkdir()
    twin.write_bytes((ASL / "callback.asl.json").read_bytes())
    out = tmp_path / "policies"
    result = run_cli("generate", *SEVERAL, str(twin), *TARGET, "-o", str(out))
    assert_input_error(result, "two state machines are named 'callback'")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inputs"]


# --- one input at a time -------------------------------------------------------------------------


def test_each_input_is_dropped_before_the_next_is_read(run_cli, tmp_path, monkeypatch):
    """What keeps memory flat with the number of files: when an input is read, no earlier one is
    still held (but the first, while it waits for a second machine). Checked without the cyclic
    collector, as the CLI runs."""
    import policygen.load.inputs

    read = policygen.load.inputs.read_input
    documents: list[weakref.ref] = []
    alive_at_each_read: list[int] = []

    def recording(path, input_type):
        alive_at_each_read.append(sum(reference() is not None for reference in documents))
        found = read(path, input_type)
        documents.extend(weakref.ref(machine.document) for machine in found[0])
        return found

    monkeypatch.setattr(policygen.load.inputs, "read_input", recording)
    inputs = [*SEVERAL, str(ASL / "tagged.asl.json"), str(ASL / "jsonata.asl.json")]
    result = run_cli("generate", *inputs, *TARGET, "-o", str(tmp_path / "policies"))
    assert result.code == 0, result.err
    assert len(documents) == len(inputs)
    assert alive_at_each_read == [0, 1, 0, 0, 0, 0]
    assert len(list((tmp_path / "policies").iterdir())) == len(inputs)


# --- the same as the whole-input flow ------------------------------------------------------------


def _whole_input_flow(monkeypatch) -> None:
    """The CLI with generate_files' whole-input flow: every machine first, then the directory."""
    generate_files = pipeline.generate_files

    def collected(paths, settings, warn, input_type, substitutions, state_machines, output, progress, directory, explain):
        outputs = generate_files(paths, settings, warn, input_type, substitutions, state_machines, output, progress)
        for name, text in outputs.files if directory is not None else ():
            directory.add(name, text)
        return outputs

    monkeypatch.setattr(pipeline, "generate_files", collected)


def _tagless_first(tmp_path: Path) -> str:
    path = tmp_path / "inputs" / "a-untagged.asl.json"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes((ASL / "callback.asl.json").read_bytes())
    return str(path)


def _broken(tmp_path: Path) -> str:
    path = tmp_path / "inputs" / "z-broken.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text('{"StartAt": ')
    return str(path)


def _unrelated(tmp_path: Path) -> str:
    path = tmp_path / "inputs" / "package.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"name": "x"}))
    return str(path)


FINE = ("--mode", "fine-grained", "--tag", "team=genomics")
# name: (exit code, arguments given the work directory)
CASES = {
    "warnings from every input, skipped and --substitute": (0, lambda t: [*SEVERAL, _unrelated(t), "--substitute", "X=1"]),
    "--explain": (0, lambda t: [*SEVERAL, "--explain"]),
    "warnings of --allow-untagged": (0, lambda t: [*SEVERAL, *FINE, "--allow-untagged"]),
    "a template into an existing directory": (0, lambda t: [str(CFN / "definition-strings.json"), "--format", "cloudformation", "-o", "EXISTING"]),
    "a state without the tag, then a broken input": (2, lambda t: [_tagless_first(t), *SEVERAL, _broken(t), *FINE]),
    "a state without the tag, and an unknown --state-machine": (2, lambda t: [*SEVERAL, *FINE, "--state-machine", "nope", "--state-machine", "sdk"]),
    "a state without the tag, and two machines for one file": (2, lambda t: [_tagless_first(t), *SEVERAL, str(ASL / "sdk.asl.json"), *FINE]),
    "an invalid --region, then a broken input": (2, lambda t: [*SEVERAL, _broken(t), "--region", "mars-1"]),
    "an invalid --region": (2, lambda t: [*SEVERAL, "--region", "mars-1"]),
    "terraform into an existing directory": (2, lambda t: [*SEVERAL, "--format", "terraform", "-o", "EXISTING"]),
    "--attach-to with machines of several integrations": (0, lambda t: [*SEVERAL, "--format", "cloudformation", "--attach-to", "Role", "-o", "EXISTING"]),
    "--attach-to that is not ASCII": (2, lambda t: [SEVERAL[0], SEVERAL[1], SEVERAL[3], "--format", "cloudformation", "--attach-to", "Rôle", "-o", "EXISTING"]),
    "one machine selected": (0, lambda t: [*SEVERAL, "--state-machine", "sdk"]),
    "one machine into an existing directory": (0, lambda t: [SEVERAL[2], "-o", "EXISTING"]),
    "a file where the directory goes": (2, lambda t: [*SEVERAL, "-o", "A_FILE"]),
}


@pytest.mark.parametrize("case", CASES)
def test_one_input_at_a_time_shows_what_the_whole_input_flow_shows(run_cli, tmp_path, monkeypatch, case):
    results = []
    for flow in ("streamed", "whole input"):
        if flow == "whole input":
            _whole_input_flow(monkeypatch)
        work = tmp_path / flow
        work.mkdir()
        code, make_arguments = CASES[case]
        arguments = make_arguments(work)
        if "-o" not in arguments:
            arguments += ["-o", "NEW"]
        existing = _existing(work)
        (work / "a-file").write_text("a file")
        places = {"NEW": str(work / "new"), "EXISTING": str(existing), "A_FILE": str(work / "a-file")}
        result = run_cli("generate", *[places.get(argument, argument) for argument in arguments],
                         *(TARGET if "--region" not in arguments else ("--account", "123456789012")))
        listing = _listing(work)
        results.append((result.code, result.out, result.err.replace(str(work), "WORK"),
                        {name: data.replace(str(work).encode(), b"WORK") for name, data in listing.items()}))
    assert results[0] == results[1]
    assert results[0][0] == code, results[0][2]


# --- DirectoryWriter -----------------------------------------------------------------------------


def test_a_name_too_long_in_a_later_file_is_the_error_reported(tmp_path, monkeypatch):
    """As when every name is checked before anything is written: the over-long name is the error,
    not the earlier file that could not be written."""
    import policygen.write.directory

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(policygen.write.directory, "open", full, raising=False)
    with DirectoryWriter(str(tmp_path / "out")) as directory:
        directory.add("a.json", "{}")
        directory.add("b" * 300 + ".json", "{}")
        with pytest.raises(UsageError, match="bytes long"):
            directory.commit()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", [False, True])
def test_a_directory_not_committed_leaves_nothing(tmp_path, existing):
    out = _existing(tmp_path) if existing else tmp_path / "policies"
    before = _listing(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with DirectoryWriter(str(out)) as directory:
            directory.add("callback.json", "{}")
            directory.add("other.json", "{}")
            assert len(os.listdir(tmp_path if not existing else out)) > (0 if not existing else 2)  # staged on disk
            raise KeyboardInterrupt
    assert _listing(tmp_path) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == (["policies"] if existing else [])
