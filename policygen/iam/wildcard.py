"""IAM wildcard matching without backtracking: `*` any run of characters, `?` exactly one.

Every other character is literal: IAM has no character classes or escapes ("Using wildcards in
resource ARNs": `*` "any combination of characters", `?` "any single character",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
Any character includes `/`, `:` and newline, as the evaluator's regexes had it (DOTALL); the
catalogue's and lint's regexes stopped at a newline, and now agree with the evaluator.
Policies and definitions are input an attacker may write, so a pattern is never handed to a
backtracking regex engine: `a*a*a*...b` against a long run of `a`s takes exponential time there.
Here a pattern is cut at its `*`s into fixed-length segments; the first must start the text, the
last must end it, and each one between is placed at its leftmost fit after the one before, which
leaves the most room for the rest, so no choice is ever revisited. A match costs at most
O(len(pattern) * len(text)) character comparisons, most of them inside `str.find`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache


class Wild(Enum):
    ANY_RUN = "*"
    ANY_CHAR = "?"


# A resolved pattern: literal text (str) and wildcards, in order. The evaluator builds these from
# a policy value whose variables it substituted, so that a substituted `*` stays literal text.
Token = str | Wild


def tokens(pattern: str) -> tuple[Token, ...]:
    """An IAM wildcard pattern as tokens: "job-queue/*" -> ("job-queue/", Wild.ANY_RUN)."""
    result: list[Token] = []
    literal_start = 0
    for index, char in enumerate(pattern):
        if char in "*?":
            if index > literal_start:
                result.append(pattern[literal_start:index])
            result.append(Wild(char))
            literal_start = index + 1
    if literal_start < len(pattern):
        result.append(pattern[literal_start:])
    return tuple(result)


def matches(pattern: str, text: str) -> bool:
    """Whether the IAM wildcard pattern matches all of `text`, case-sensitively (ARNs, resource names)."""
    return _compiled_text(pattern, False).matches(text)


def matches_ignoring_case(pattern: str, text: str) -> bool:
    """Whether the IAM wildcard pattern matches all of `text` ignoring case (action names,
    condition keys: IAM compares them case-insensitively)."""
    return _compiled_text(pattern, True).matches(text)


def covers(wider: str, narrower: str) -> bool:
    """Whether the `*` pattern `wider` certainly matches every text the pattern `narrower` matches.

    `wider` is matched against `narrower`'s own text, whose `*` and `?` are read as characters: a
    `*` of `wider` can stand for any of them, a `?` of `wider` for one literal character or one `?`,
    but never for a `*` of `narrower` (that `*` may match no character or many). That is sufficient
    for coverage, not necessary ("*?" covers "?*" but is not found to): deciding coverage exactly is
    coNP-complete, and a missed coverage only keeps a redundant ARN in a generated policy.
    A pattern without `*` covers nothing but itself, which the callers test by equality."""
    if "*" not in wider:
        return False
    return _compiled_text(wider, False).matches(narrower, any_char_excludes="*" if "?" in wider else "")


def contains(outer: str, inner: str) -> bool:
    """Whether every text the pattern `inner` matches is matched by `outer`, read soundly: each
    wildcard of `inner` has to fall inside a `*` of `outer`, and a `?` of `outer` may stand for one
    literal character or one `?` of `inner` (never for a `*`). Unlike `covers`, a pattern without
    `*` counts: "a?c" contains "abc" and "a?c"."""
    return _compiled_text(outer, False).matches(inner, any_char_excludes="*")


@lru_cache(maxsize=4096)
def intersects(first: str, second: str) -> bool:
    """Whether some text matches both patterns (exact). A dynamic programme over the two patterns
    from their ends, two rows at a time: O(len(first) * len(second)) steps, no recursion, so a
    long pattern can neither backtrack nor exhaust the stack. Remembered: `lint --fix` asks it of
    the same policy and state patterns for every state."""
    width = len(second)
    below = [False] * (width + 1)  # row i + 1
    for i in range(len(first), -1, -1):
        row = [False] * (width + 1)
        for j in range(width, -1, -1):
            if i == len(first) and j == width:
                row[j] = True
            elif i < len(first) and first[i] == "*":
                row[j] = below[j] or (j < width and row[j + 1])
            elif j < width and second[j] == "*":
                row[j] = row[j + 1] or (i < len(first) and below[j])
            elif i == len(first) or j == width:
                row[j] = False
            else:
                a, b = first[i], second[j]
                row[j] = (a == "?" or b == "?" or a == b) and below[j + 1]
        below = row
    return below[0]


def uncovered(patterns: Iterable[str]) -> tuple[str, ...]:
    """The patterns, sorted, without those another one covers (job-queue/a beside job-queue/*).

    Of patterns that cover each other ("q/a*" and "q/a**") one stays: dropping each because of
    the other would leave neither. A pattern covers only patterns with at least as many literal
    characters, so the wider ones are met first; one is dropped only for a pattern kept at the
    time, and one kept then dropped is covered by the one that replaced it, so the result grants
    everything the input did."""
    kept: list[str] = []
    # Only a pattern with a `*` covers another (covers()): thousands of plain ARNs (a function per
    # state) are then checked against the few wildcards, not against each other.
    wild: list[str] = []
    for pattern in sorted(set(patterns), key=lambda p: (len(p) - p.count("*") - p.count("?"), p)):
        if any(covers(other, pattern) for other in wild):
            continue
        if "*" in pattern:
            kept = [other for other in kept if not covers(pattern, other)]
            wild = [other for other in wild if not covers(pattern, other)]
            wild.append(pattern)
        kept.append(pattern)
    return tuple(sorted(kept))


@lru_cache(maxsize=4096)
def _compiled_text(pattern: str, ignore_case: bool) -> Wildcard:
    return compile_tokens(tokens(pattern), ignore_case)


@lru_cache(maxsize=4096)
def compile_tokens(pattern: tuple[Token, ...], ignore_case: bool = False) -> Wildcard:
    """The matcher for a token sequence; literal text is folded once here when case is ignored."""
    segments: list[_Segment] = []
    current: list[str | int] = []
    for token in pattern:
        if token is Wild.ANY_RUN:
            segments.append(_Segment.of(current))
            current = []
        elif token is Wild.ANY_CHAR:
            current.append(1)
        elif token:
            current.append(fold_case(token) if ignore_case else token)
    segments.append(_Segment.of(current))
    return Wildcard.of(segments, ignore_case)


def fold_case(text: str) -> str:
    """`text` with each character case-folded, one character for one, so that `?` still counts
    characters ("ß" keeps its single character instead of becoming "ss")."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(char) for char in text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    for folded in (char.casefold(), char.lower()):
        if len(folded) == 1:
            return folded
    return char


@dataclass(frozen=True)
class _Segment:
    """A fixed-length run of literal text (str) and any-character counts (int)."""

    parts: tuple[str | int, ...]
    length: int
    literal: str | None  # the whole segment when it has no `?`: str.startswith tests it at once
    anchor: tuple[int, str] | None  # the first literal part and its offset, for str.find

    @staticmethod
    def of(parts: Iterable[str | int]) -> _Segment:
        merged: list[str | int] = []
        for part in parts:
            if merged and type(merged[-1]) is type(part):
                merged[-1] = merged[-1] + part  # type: ignore[operator]
            else:
                merged.append(part)
        anchor = None
        length = 0
        for part in merged:
            if isinstance(part, str) and anchor is None:
                anchor = (length, part)
            length += part if isinstance(part, int) else len(part)
        literal = None if any(isinstance(part, int) for part in merged) else "".join(merged)  # type: ignore[arg-type]
        return _Segment(tuple(merged), length, literal, anchor)

    def fits(self, text: str, at: int, any_char_excludes: str) -> bool:
        """Whether the segment matches text[at : at + length] (the caller ensures it is that long)."""
        if self.literal is not None:
            return text.startswith(self.literal, at)
        position = at
        for part in self.parts:
            if isinstance(part, int):
                if any_char_excludes and any_char_excludes in text[position : position + part]:
                    return False
                position += part
            else:
                if not text.startswith(part, position):
                    return False
                position += len(part)
        return True

    def find(self, text: str, start: int, end: int, any_char_excludes: str) -> int:
        """The leftmost position p >= start where the segment fits, with p + length <= end; -1
        when there is none."""
        last_start = end - self.length
        if self.literal is not None:
            return text.find(self.literal, start, end) if start <= last_start else -1
        position = start
        while position <= last_start:
            if self.anchor is not None:
                # str.find skips straight to the next place the first literal part can stand.
                offset, literal = self.anchor
                found = text.find(literal, position + offset, last_start + offset + len(literal))
                if found < 0:
                    return -1
                position = found - offset
            if self.fits(text, position, any_char_excludes):
                return position
            position += 1
        return -1


@dataclass(frozen=True)
class Wildcard:
    """A compiled IAM wildcard pattern: the fixed-length segments around and between its `*`s."""

    first: _Segment  # the whole pattern when it has no `*`
    middle: tuple[_Segment, ...]
    last: _Segment | None  # None: no `*`, the text must be exactly as long as `first`
    ignore_case: bool

    @staticmethod
    def of(segments: list[_Segment], ignore_case: bool) -> Wildcard:
        if len(segments) == 1:
            return Wildcard(segments[0], (), None, ignore_case)
        return Wildcard(segments[0], tuple(segments[1:-1]), segments[-1], ignore_case)

    def matches(self, text: str, any_char_excludes: str = "") -> bool:
        """Whether the pattern matches all of `text`. A `?` never stands for a character of
        `any_char_excludes` (for `covers`)."""
        if self.ignore_case:
            text = fold_case(text)
        first, last = self.first, self.last
        if last is None:
            return len(text) == first.length and first.fits(text, 0, any_char_excludes)
        end = len(text) - last.length
        if end < first.length or not first.fits(text, 0, any_char_excludes):
            return False
        if not last.fits(text, end, any_char_excludes):
            return False
        position = first.length
        for segment in self.middle:
            found = segment.find(text, position, end, any_char_excludes)
            if found < 0:
                return False
            position = found + segment.length
        return True
