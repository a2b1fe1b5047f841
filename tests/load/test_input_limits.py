"""Hostile input files: every read capped (--max-input-size), so /dev/zero or an endless FIFO is an
exit-2 error and not all of memory; UTF-16 and UTF-32 named as such instead of a parse error."""

from __future__ import annotations

import codecs
import json
import os
import threading
from pathlib import Path

import pytest
from test_cli import assert_input_error

from policygen.errors import InputError, UsageError
from policygen.load import load_document
from policygen.load.document import DEFAULT_INPUT_SIZE_LIMIT, describe_size, parse_size

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "fixtures" / "inputs" / "asl"
LINT = ROOT / "fixtures" / "lint"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
SMALL_ASL = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
MiB = 1024 * 1024


# --- the size cap -------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_an_error_naming_file_and_limit(run_cli, tmp_path):
    source = tmp_path / "big.asl.json"
    source.write_text(json.dumps(SMALL_ASL) + " " * 2048)
    assert_input_error(run_cli("scan", str(source), "--max-input-size", "2K"), f"{source}: larger than the input size limit of 2 KiB", "--max-input-size")
    assert run_cli("scan", str(source), "--max-input-size", "3K").code == 0


def test_a_file_of_exactly_the_limit_is_read(run_cli, tmp_path):
    source = tmp_path / "exact.asl.json"
    text = json.dumps(SMALL_ASL)
    source.write_text(text)
    assert run_cli("scan", str(source), "--max-input-size", str(len(text))).code == 0
    assert_input_error(run_cli("scan", str(source), "--max-input-size", str(len(text) - 1)), f"limit of {len(text) - 1} bytes")


def test_the_default_limit_stops_a_file_over_100_mib_without_reading_it(run_cli, tmp_path):
    source = tmp_path / "sparse.json"
    with open(source, "wb") as stream:
        stream.truncate(DEFAULT_INPUT_SIZE_LIMIT + 1)  # sparse: no disk, and never read
    assert_input_error(run_cli("scan", str(source)), f"{source}: larger than the input size limit of 100 MiB")


def test_dev_zero_is_an_error_not_all_of_memory(run_cli):
    assert_input_error(run_cli("scan", "/dev/zero", "--max-input-size", "1M"), "/dev/zero: larger than the input size limit of 1 MiB")


def test_an_endless_fifo_is_read_only_up_to_the_limit(run_cli, tmp_path):
    fifo = tmp_path / "endless.json"
    os.mkfifo(fifo)
    written = []
    most = 64 * MiB  # a bound for the writer, so a reader that never stops fails instead of hanging

    def feed():
        try:
            with open(fifo, "wb") as stream:
                while sum(written) < most:
                    stream.write(b" " * 65536)
                    written.append(65536)
        except BrokenPipeError:  # the reader stopped and closed its end
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    result = run_cli("generate", str(fifo), *TARGET, "--max-input-size", "1M")
    writer.join(timeout=10)
    if writer.is_alive():  # policygen never opened the FIFO: release the writer before failing
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=10)
    assert_input_error(result, f"{fifo}: larger than the input size limit of 1 MiB")
    assert not writer.is_alive()
    assert sum(written) < 4 * MiB  # policygen stopped reading soon after the limit


def test_stdin_is_capped_too(run_cli):
    result = run_cli("generate", "-", *TARGET, "--max-input-size", "1K", stdin=json.dumps(SMALL_ASL).encode() + b" " * 1024)
    assert_input_error(result, "<stdin>: larger than the input size limit of 1 KiB")


def test_lint_caps_the_policy_files(run_cli, tmp_path):
    case = LINT / "PG101" / "bad"
    policy = tmp_path / "policy.json"
    policy.write_bytes((case / "policy.json").read_bytes() + b" " * 4096)
    result = run_cli("lint", str(case / "definition.asl.json"), "--policy", str(policy), *TARGET, "--max-input-size", "4K")
    assert_input_error(result, f"{policy}: larger than the input size limit of 4 KiB")


def test_the_limit_holds_for_one_run_only(run_cli, tmp_path):
    source = tmp_path / "sm.asl.json"
    source.write_text(json.dumps(SMALL_ASL))
    assert run_cli("scan", str(source), "--max-input-size", "10").code == 2
    assert run_cli("scan", str(source)).code == 0
    assert load_document(str(source)).data == SMALL_ASL


@pytest.mark.parametrize(
    "text, size",
    [("1", 1), ("1048576", MiB), ("50M", 50 * MiB), ("50m", 50 * MiB), ("50MB", 50 * MiB), ("50MiB", 50 * MiB),
     ("2k", 2048), ("1G", 1024 * MiB), (" 3 K ", 3072)],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0", "", "-1", "1.5M", "1T", "M", "10 bytes", "1e6"])
def test_bad_sizes(text):
    with pytest.raises(UsageError) as caught:
        parse_size(text)
    assert "--max-input-size" in str(caught.value) and "50M" in str(caught.value)


def test_a_bad_size_is_a_usage_error(run_cli):
    assert_input_error(run_cli("scan", str(ASL / "callback.asl.json"), "--max-input-size", "lots"), "--max-input-size 'lots'")


def test_describe_size():
    assert [describe_size(n) for n in (100 * MiB, 2048, 1536, 3 * 1024 * MiB)] == ["100 MiB", "2 KiB", "1536 bytes", "3 GiB"]


# --- UTF-16 and UTF-32 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, said",
    [
        ("utf-16-le", "UTF-16 (little-endian, no byte order mark)"),
        ("utf-16-be", "UTF-16 (big-endian, no byte order mark)"),
        ("utf-32-le", "UTF-32 (little-endian, no byte order mark)"),
        ("utf-32-be", "UTF-32 (big-endian, no byte order mark)"),
    ],
)
@pytest.mark.parametrize("name, text", [("sm.asl.json", json.dumps(SMALL_ASL)), ("sm.asl.yaml", "StartAt: A\nStates: {}\n")])
def test_utf16_and_utf32_without_a_byte_order_mark(run_cli, tmp_path, encoding, said, name, text):
    source = tmp_path / name
    source.write_bytes(text.encode(encoding))
    assert_input_error(run_cli("scan", str(source)), f"{source}:1:1: not UTF-8 text: the file is {said}; save it as UTF-8")


@pytest.mark.parametrize(
    "mark, encoding, said",
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (little-endian, with a byte order mark)"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 (big-endian, with a byte order mark)"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 (little-endian, with a byte order mark)"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 (big-endian, with a byte order mark)"),
    ],
)
def test_utf16_and_utf32_with_a_byte_order_mark(tmp_path, mark, encoding, said):
    source = tmp_path / "sm.asl.json"
    source.write_bytes(mark + json.dumps(SMALL_ASL).encode(encoding))
    with pytest.raises(InputError) as caught:
        load_document(str(source))
    assert caught.value.message == f"not UTF-8 text: the file is {said}; save it as UTF-8"


def test_a_utf16_policy_file_is_named(run_cli, tmp_path):
    case = LINT / "PG101" / "bad"
    policy = tmp_path / "policy.json"
    policy.write_bytes((case / "policy.json").read_text().encode("utf-16-le"))
    assert_input_error(run_cli("lint", str(case / "definition.asl.json"), "--policy", str(policy), *TARGET), f"{policy}:1:1", "UTF-16")


@pytest.mark.parametrize("content", [b"{}", b"a: 1\n", b"\xef\xbb\xbf{}", b"# c\n{}", b"\n", b""])
def test_utf8_files_are_not_taken_for_utf16(tmp_path, content):
    source = tmp_path / "f.yaml"
    source.write_bytes(content)
    try:
        load_document(str(source))
    except InputError as error:
        assert "UTF-16" not in error.message and "UTF-32" not in error.message
