"""`${...}` placeholders are found in linear time, with exactly re's matches (load/template.py)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from policygen.load.template import parse_sub, placeholders, replace_placeholders

NAIVE = re.compile(r"\$\{([^}]*)\}")
TEXTS = st.text(alphabet="${}!a:", max_size=40)


@given(TEXTS)
def test_placeholders_are_the_naive_patterns_matches(text):
    assert [m.span() for m in placeholders(text)] == [m.span() for m in NAIVE.finditer(text)]


@given(TEXTS)
def test_replace_placeholders_is_the_naive_substitution(text):
    assert replace_placeholders(text, lambda m: f"<{m.group(1)}>") == NAIVE.sub(lambda m: f"<{m.group(1)}>", text)


def test_a_run_of_unclosed_placeholders_is_read_as_text():
    # 20,000 unclosed `${` took the naive search about 4 s (each one scanned to the end).
    text = "arn:${AWS::Partition}:x:" + "${" * 20_000
    assert parse_sub(text)[-1] == ":x:" + "${" * 20_000
