"""Tests for csrules.load.positions: exact positions per construct, the toml-test corpus, and
round-trips of random documents written by tomli_w."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csrules.load.positions import Path as TomlPath
from csrules.load.positions import Pos, PositionMap, build_position_map

# -- helpers ------------------------------------------------------------------------------------


def _offset(text: str, pos: Pos) -> int:
    """Character offset of a 1-based line/column, computed independently of the module."""
    line_start = 0
    for _ in range(pos.line - 1):
        line_start = text.index("\n", line_start) + 1
    return line_start + pos.column - 1


def _at(text: str, pos: Pos | None) -> str:
    """The text from ``pos`` to the end of its line."""
    assert pos is not None
    start = _offset(text, pos)
    end = text.find("\n", start)
    return text[start : len(text) if end == -1 else end]


def _walk(value: Any, path: TomlPath = ()) -> Iterator[tuple[TomlPath, Any]]:
    """Every (path, value) below the root of a tomllib result."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key), child
            yield from _walk(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*path, index), child
            yield from _walk(child, (*path, index))


def _same(a: Any, b: Any) -> bool:
    """Deep equality that treats NaN as equal to NaN and does not confuse 1, 1.0 and True."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _may_lack_span(value: Any) -> bool:
    """Tables and arrays of tables may be assembled from headers or dotted keys (no one text)."""
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def _check_paths_and_spans(text: str, data: dict[str, Any], positions: PositionMap) -> None:
    """(a) every path is known; (b) every value's span re-parses to the same value."""
    known = positions.paths()
    for path, value in _walk(data):
        assert path in known, f"missing path {path!r}"
        span = positions.span(path)
        if span is None:
            assert _may_lack_span(value), f"no span for {path!r}"
            continue
        source = text[span[0] : span[1]]
        reparsed = tomllib.loads("x = " + source)["x"]
        assert _same(reparsed, value), f"{path!r}: {source!r} -> {reparsed!r} != {value!r}"


def _check_keys(text: str, positions: PositionMap) -> None:
    """(c) key() points at the key name, a quote, or (for header tables) the header's ``[``."""
    for path in positions.paths():
        pos = positions.key(path)
        if pos is None:
            assert isinstance(path[-1], int), f"no key for {path!r}"
            continue
        here = _at(text, pos)
        if here.startswith("["):
            assert positions.table(path) == pos, f"{path!r}: [ but not a header table"
        else:
            name = path[-1]
            assert isinstance(name, str), f"{path!r}: element key must be a header"
            assert here.startswith((name, '"', "'")), f"{path!r}: key points at {here!r}"


def _check_all(text: str) -> None:
    data = tomllib.loads(text)
    positions = build_position_map(text)
    _check_paths_and_spans(text, data, positions)
    _check_keys(text, positions)


# -- keys ---------------------------------------------------------------------------------------


def test_bare_key_and_scalar_value() -> None:
    m = build_position_map("name = 'x'\n  count=12\n")
    assert m.key(("name",)) == Pos(1, 1)
    assert m.value(("name",)) == Pos(1, 8)
    assert m.span(("name",)) == (7, 10)
    assert m.key(("count",)) == Pos(2, 3)
    assert m.value(("count",)) == Pos(2, 9)
    assert m.table(("count",)) is None


def test_keys_that_look_like_other_tokens() -> None:
    text = "true = 1\n1234 = 2\n1.2 = 3\n-_- = 4\n"
    m = build_position_map(text)
    assert m.key(("true",)) == Pos(1, 1)
    assert m.key(("1234",)) == Pos(2, 1)
    assert m.key(("1", "2")) == Pos(3, 3)  # a dotted key, not a float
    assert m.table(("1",)) == Pos(3, 1)
    assert m.value(("-_-",)) == Pos(4, 7)


def test_quoted_keys_are_decoded() -> None:
    text = '"a\\"b\\u00e9" = 1\n\'c.d\' = 2\n"" = 3\n"\\\\" = 4\n'
    m = build_position_map(text)
    assert m.key(('a"bé',)) == Pos(1, 1)
    assert m.value(('a"bé',)) == Pos(1, 16)
    assert m.key(("c.d",)) == Pos(2, 1)
    assert m.key(("",)) == Pos(3, 1)
    assert m.value(("",)) == Pos(3, 6)
    assert m.key(("\\",)) == Pos(4, 1)
    assert m.paths() == {('a"bé',), ("c.d",), ("",), ("\\",)}


def test_dotted_keys_with_spaces_point_at_each_part() -> None:
    text = 'a . "b" .c = 1\na.b.d = 2\na . x = 3\n'
    m = build_position_map(text)
    assert m.key(("a", "b", "c")) == Pos(1, 10)
    assert m.key(("a", "b")) == Pos(1, 5)  # the first dotted key that created a.b
    assert m.key(("a",)) == Pos(1, 1)
    assert m.table(("a", "b")) == Pos(1, 5)
    assert m.key(("a", "b", "d")) == Pos(2, 5)
    assert m.key(("a", "x")) == Pos(3, 5)
    assert m.value(("a", "x")) == Pos(3, 9)
    assert m.value(("a", "b")) is None
    assert m.span(("a",)) is None


def test_columns_count_code_points() -> None:
    text = '"日本" = "ü😀"\nk = 1  # 😀 comment\n"😀" = 2\n'
    m = build_position_map(text)
    assert m.value(("日本",)) == Pos(1, 8)
    assert m.span(("日本",)) == (7, 11)
    assert m.value(("k",)) == Pos(2, 5)
    assert m.key(("😀",)) == Pos(3, 1)
    assert m.value(("😀",)) == Pos(3, 7)


# -- tables -------------------------------------------------------------------------------------


def test_table_headers_with_spaces_quotes_and_dots() -> None:
    text = "top = 1\n\n[ server . 'alpha.x' ]\nip = 1\n[\"a b\".c]\nd = 2\n"
    m = build_position_map(text)
    assert m.key(("server", "alpha.x")) == Pos(3, 1)
    assert m.table(("server", "alpha.x")) == Pos(3, 1)
    assert m.key(("server", "alpha.x", "ip")) == Pos(4, 1)
    assert m.table(("a b", "c")) == Pos(5, 1)
    assert m.value(("a b", "c", "d")) == Pos(6, 5)
    assert m.value(("server", "alpha.x")) is None
    assert m.span(("server", "alpha.x")) is None


def test_implicit_tables_point_at_the_header_that_created_them() -> None:
    text = "[a.b.c]\nx = 1\n[a.q]\n"
    m = build_position_map(text)
    assert m.table(("a",)) == Pos(1, 1)
    assert m.key(("a",)) == Pos(1, 1)
    assert m.table(("a", "b")) == Pos(1, 1)
    assert m.table(("a", "b", "c")) == Pos(1, 1)
    assert m.table(("a", "q")) == Pos(3, 1)


def test_explicit_header_wins_over_implicit_creation() -> None:
    text = "[a.b]\nx = 1\n[a]\ny = 2\n"
    m = build_position_map(text)
    assert m.table(("a",)) == Pos(3, 1)
    assert m.key(("a",)) == Pos(3, 1)
    assert m.key(("a", "y")) == Pos(4, 1)


def test_dotted_keys_under_header_and_subtable_after() -> None:
    text = '[fruit]\napple.color = "red"\n[fruit.apple.texture]\nsmooth = true\n'
    m = build_position_map(text)
    assert m.key(("fruit", "apple")) == Pos(2, 1)
    assert m.key(("fruit", "apple", "color")) == Pos(2, 7)
    assert m.table(("fruit", "apple", "texture")) == Pos(3, 1)
    assert m.value(("fruit", "apple", "texture", "smooth")) == Pos(4, 10)


BRIEF_EXAMPLE = """\
[[tier]]
id = "a"
[[tier]]
id = "b"
[[playbook]]
[[playbook.action]]
x = 1
[[playbook.action]]
x = 2
[[test]]
[[test]]
[test.expect.a1]    # lands in the last [[test]]
ok = true
"""


def test_arrays_of_tables_are_indexed_in_document_order() -> None:
    m = build_position_map(BRIEF_EXAMPLE)
    assert m.value(("tier", 0, "id")) == Pos(2, 6)
    assert m.value(("tier", 1, "id")) == Pos(4, 6)
    assert m.key(("tier", 0)) == Pos(1, 1)
    assert m.table(("tier", 1)) == Pos(3, 1)
    assert m.table(("tier",)) == Pos(1, 1)  # the array itself: its first header
    assert m.key(("playbook", 0, "action", 0, "x")) == Pos(7, 1)
    assert m.key(("playbook", 0, "action", 1, "x")) == Pos(9, 1)
    assert m.table(("playbook", 0, "action", 1)) == Pos(8, 1)
    assert m.table(("test", 1, "expect", "a1")) == Pos(12, 1)
    assert m.table(("test", 1, "expect")) == Pos(12, 1)
    assert m.value(("test", 1, "expect", "a1", "ok")) == Pos(13, 6)
    assert ("test", 0, "expect") not in m.paths()
    assert m.span(("tier", 0)) is None
    _check_all(BRIEF_EXAMPLE)


def test_nested_array_of_tables_restarts_per_parent() -> None:
    text = "[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[ a . b ]]\nn = 1\n[a.c]\n"
    m = build_position_map(text)
    assert m.table(("a", 0, "b", 1)) == Pos(3, 1)
    assert m.table(("a", 1, "b", 0)) == Pos(5, 1)
    assert m.key(("a", 1, "b", 0, "n")) == Pos(6, 1)
    assert m.table(("a", 1, "c")) == Pos(7, 1)
    assert ("a", 1, "b", 1) not in m.paths()


# -- strings ------------------------------------------------------------------------------------


def test_basic_and_literal_strings() -> None:
    text = 'a = "x\\"#,]" # c\nb = \'C:\\path\\\'\nc = ""\nd = \'\'\n'
    m = build_position_map(text)
    assert m.span(("a",)) == (4, 12)
    assert m.value(("b",)) == Pos(2, 5)
    assert _at(text, m.value(("b",))) == "'C:\\path\\'"
    assert m.span(("c",)) == (text.index('""'), text.index('""') + 2)
    assert _at(text, m.value(("d",))) == "''"
    _check_all(text)


def test_multiline_basic_strings() -> None:
    text = 'a = """\nline \\\n   joined\\"""\n"""\nb = """"x"""""\nc = """q""" # """\n'
    m = build_position_map(text)
    assert m.value(("a",)) == Pos(1, 5)
    assert m.key(("b",)) == Pos(5, 1)
    assert _at(text, m.value(("b",))) == '""""x"""""'
    span = m.span(("c",))
    assert span is not None
    assert text[span[0] : span[1]] == '"""q"""'  # the comment's quotes are not part of it
    _check_all(text)


def test_multiline_literal_strings() -> None:
    text = "a = '''\nno \\escape ''\n'''\nb = ''''x'''''\nc = 1\n"
    m = build_position_map(text)
    assert m.value(("a",)) == Pos(1, 5)
    assert _at(text, m.value(("b",))) == "''''x'''''"
    assert m.key(("c",)) == Pos(5, 1)
    _check_all(text)


# -- other scalars ------------------------------------------------------------------------------


def test_numbers_bools_and_datetimes() -> None:
    text = (
        "i = -1_000\nh = 0xdead_beef\nf = +6.02e23\nn = -nan\nt = true\n"
        "odt = 1979-05-27 07:32:00.5-07:00 # space separator\nld = 1979-05-27 # date only\n"
        "lt = 07:32:00\nldt = 1979-05-27T07:32:00\n"
    )
    m = build_position_map(text)
    assert m.value(("i",)) == Pos(1, 5)
    assert _at(text, m.value(("odt",))).startswith("1979-05-27 07:32:00.5-07:00 #")
    span = m.span(("odt",))
    assert span is not None
    assert text[span[0] : span[1]] == "1979-05-27 07:32:00.5-07:00"
    span = m.span(("ld",))
    assert span is not None
    assert text[span[0] : span[1]] == "1979-05-27"
    _check_all(text)


# -- arrays and inline tables -------------------------------------------------------------------


def test_multiline_array_with_comments_and_trailing_comma() -> None:
    text = "a = [  # open\n  1,\n  # between\n  [2, [3]] ,\n  'x',\n]\nb = []\n"
    m = build_position_map(text)
    assert m.value(("a",)) == Pos(1, 5)
    assert m.table(("a",)) == Pos(1, 5)
    assert m.value(("a", 0)) == Pos(2, 3)
    assert m.key(("a", 0)) is None
    assert m.value(("a", 1)) == Pos(4, 3)
    assert m.value(("a", 1, 1, 0)) == Pos(4, 8)
    assert m.value(("a", 2)) == Pos(5, 3)
    assert ("a", 3) not in m.paths()
    assert m.table(("b",)) == Pos(7, 5)
    _check_all(text)


def test_inline_tables_nested_in_arrays() -> None:
    text = 'accounts = [ { id = "x", tags = ["a"] }, {a.b={c=1}} ]\n'
    m = build_position_map(text)
    assert m.value(("accounts", 0)) == Pos(1, 14)
    assert m.table(("accounts", 0)) == Pos(1, 14)
    assert m.key(("accounts", 0, "id")) == Pos(1, 16)
    assert m.value(("accounts", 0, "tags", 0)) == Pos(1, 34)
    assert m.key(("accounts", 1, "a", "b")) == Pos(1, 45)
    assert m.table(("accounts", 1, "a", "b")) == Pos(1, 47)
    assert m.value(("accounts", 1, "a", "b", "c")) == Pos(1, 50)
    assert m.span(("accounts", 1, "a")) is None  # made by a dotted key, not one value
    _check_all(text)


def test_empty_inline_table() -> None:
    m = build_position_map("t = {}\nu = { }\n")
    assert m.span(("t",)) == (4, 6)
    assert m.table(("u",)) == Pos(2, 5)


# -- line endings and comments ------------------------------------------------------------------


def test_crlf_line_endings() -> None:
    text = '# c\r\n[t]\r\na = """x\r\ny"""\r\nb = [\r\n 1,\r\n]\r\n'
    m = build_position_map(text)
    assert m.table(("t",)) == Pos(2, 1)
    assert m.value(("t", "a")) == Pos(3, 5)
    assert m.key(("t", "b")) == Pos(5, 1)
    assert m.value(("t", "b", 0)) == Pos(6, 2)
    _check_all(text)


def test_comments_with_tricky_characters_and_no_final_newline() -> None:
    text = '# [x] = "y"\na = 1 # [b] \'\'\' """\n[c] # [[d]]\n#e = 1\nf = 2'
    m = build_position_map(text)
    assert m.paths() == {("a",), ("c",), ("c", "f")}
    assert m.value(("c", "f")) == Pos(5, 5)
    assert m.span(("c", "f")) == (len(text) - 1, len(text))


def test_empty_document() -> None:
    m = build_position_map("")
    assert m.paths() == set()
    assert m.nearest(("x",)) == Pos(1, 1)


# -- nearest ------------------------------------------------------------------------------------


def test_nearest_prefers_own_value_then_key_then_table() -> None:
    m = build_position_map(BRIEF_EXAMPLE)
    assert m.nearest(("tier", 1, "id")) == Pos(4, 6)
    assert m.nearest(("tier", 1)) == Pos(3, 1)


def test_nearest_walks_up_to_the_enclosing_table_header() -> None:
    m = build_position_map(BRIEF_EXAMPLE)
    assert m.nearest(("playbook", 0, "action", 1, "when")) == Pos(8, 1)
    assert m.nearest(("playbook", 0, "action", 1, "when", "deep", 3)) == Pos(8, 1)
    assert m.nearest(("nothing", "here")) == Pos(1, 1)


def test_nearest_under_a_value_uses_its_key_or_container() -> None:
    m = build_position_map("[t]\nx = 1\narr = [ {a = 1} ]\n")
    assert m.nearest(("t", "x", "missing")) == Pos(2, 1)
    assert m.nearest(("t", "arr", 0, "b")) == Pos(3, 9)
    assert m.nearest(("t", "arr", 5)) == Pos(3, 7)


# -- the toml-test corpus -----------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "toml-test" / "tests"
ABSENT = f"toml-test corpus not found at {CORPUS} (expected a 'shared' folder beside the repo)"


def _corpus_files() -> list[str]:
    """Valid TOML 1.0 files of the corpus, relative to its tests/ folder (empty if absent)."""
    listing = CORPUS / "files-toml-1.0.0"
    if not (CORPUS / "valid").is_dir() or not listing.is_file():
        return []
    names = listing.read_text(encoding="utf-8").split()
    return [n for n in names if n.startswith("valid/") and n.endswith(".toml")]


CORPUS_FILES = _corpus_files()


@pytest.mark.parametrize(
    "name",
    CORPUS_FILES or [pytest.param("", marks=pytest.mark.skip(reason=ABSENT), id="no-corpus")],
)
def test_corpus_file(name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    try:
        text = raw.decode("utf-8")
        tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        pytest.skip(f"Python's tomllib rejects this file: {error}")
    _check_all(text)


def test_corpus_is_checked_when_present() -> None:
    if not CORPUS_FILES:
        pytest.skip(ABSENT)
    assert len(CORPUS_FILES) > 100


# -- random documents written by tomli_w --------------------------------------------------------

_chars = st.characters(exclude_categories=["Cs"])
_keys = st.text(_chars, max_size=6) | st.sampled_from(["a", "b", "x-y", "1", "true", "a.b"])
_zones = st.sampled_from([None, UTC, timezone(timedelta(hours=-7, minutes=-30))])
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(_chars, max_size=12),
    st.text(st.sampled_from("a'\"\\\n\r\t #[]{}=,."), max_size=12),
    st.dates(),
    st.times(),
    st.datetimes(timezones=_zones),
)
_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=16,
)
_documents = st.dictionaries(_keys, _values, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents, multiline=st.booleans(), indent=st.integers(0, 4))
def test_random_documents_round_trip(
    document: dict[str, Any], multiline: bool, indent: int
) -> None:
    text = tomli_w.dumps(document, multiline_strings=multiline, indent=indent)
    data = tomllib.loads(text)
    positions = build_position_map(text)
    _check_paths_and_spans(text, data, positions)
    _check_keys(text, positions)
