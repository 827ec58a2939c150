"""The CEL conformance tests (cel-spec ``tests/simple``) through both backends.

Each ``*.textproto`` file is read with a minimal text-format parser: a test's name,
``expr``, and its expected ``value`` or ``eval_error``. Tests the csrules setting cannot
express are skipped: bindings, ``type_env``, ``container``, disabled macros or checks,
check-only tests, protobuf message values (``object_value``), type and enum values.
An expression our type-checker rejects is skipped too (csrules never evaluates one),
and for the columnar backend an expression it does not compile (it falls back).

The counts are not a claim that csrules implements CEL: cel-python (the reference)
departs from the specification in known places (see shared/notes/cel-probes.md), and
the columnar backend agrees with the reference, not with the specification. The test
records how many tests pass per file and backend and fails when a count drops below
the recorded one (docs/architecture.md keeps the table).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csrules.engine.columnar import expression_values
from csrules.engine.reference import ReferenceKernel
from csrules.engine.values import EvalError, NoData, Value
from csrules.expr.checker import TypeEnv, check_source
from csrules.hooks import manager
from csrules.model.fieldtypes import parse_field
from csrules.snapshot.batch import AccountBatch, SnapshotSpec

CORPUS = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "corpora"
    / "cel-spec"
    / "tests"
    / "simple"
    / "testdata"
)
FUNCTIONS = manager.all_functions(manager.plugin_manager())
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# Passing tests per file: (reference, columnar). A count may grow; it must not drop.
RECORDED: dict[str, tuple[int, int]] = {
    "basic": (35, 22),
    "comparisons": (208, 208),
    "conversions": (84, 65),
    "fields": (35, 13),
    "fp_math": (29, 29),
    "integer_math": (61, 46),
    "lists": (32, 21),
    "logic": (21, 21),
    "macros": (42, 34),
    "parse": (147, 97),
    "plumbing": (3, 2),
    "string": (51, 47),
    "timestamps": (60, 60),
}

# ------------------------------------------------------------ text format


_TOKEN = re.compile(
    r"""\s*(?:(?P<comment>\#[^\n]*)|(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<punct>[{}:\[\],<>;])|(?P<word>[^\s{}:\[\],<>;"']+))""",
    re.S,
)


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise ValueError(f"cannot read text format at {text[position : position + 40]!r}")
            return
        position = match.end()
        kind = match.lastgroup
        if kind is None or kind == "comment":
            continue
        yield kind, match.group(kind)


def _unescape(quoted: str) -> bytes:
    """A text-format string literal as bytes (C escapes, octal and hex bytes)."""
    body = quoted[1:-1]
    out = bytearray()
    i = 0
    simple = {
        "n": 10,
        "t": 9,
        "r": 13,
        "a": 7,
        "b": 8,
        "f": 12,
        "v": 11,
        "\\": 92,
        "'": 39,
        '"': 34,
        "?": 63,
    }
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.extend(ch.encode("utf-8"))
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", body[i + 1 :])
            assert digits is not None
            out.append(int(digits.group(0), 8))
            i += 1 + len(digits.group(0))
        elif nxt in "xX":
            digits = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2 :])
            assert digits is not None
            out.append(int(digits.group(0), 16))
            i += 2 + len(digits.group(0))
        elif nxt == "u":
            out.extend(chr(int(body[i + 2 : i + 6], 16)).encode("utf-8"))
            i += 6
        elif nxt == "U":
            out.extend(chr(int(body[i + 2 : i + 10], 16)).encode("utf-8"))
            i += 10
        else:
            out.extend(nxt.encode("utf-8"))
            i += 2
    return bytes(out)


Message = list[tuple[str, Any]]  # fields in order; a value is bytes, a word, or a Message


def _parse(tokens: list[tuple[str, str]], start: int, closer: str | None) -> tuple[Message, int]:
    fields: Message = []
    i = start
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "punct" and text in ("}", ">") and closer is not None:
            return fields, i + 1
        if kind == "punct" and text in (",", ";"):
            i += 1
            continue
        name = text
        i += 1
        if name == "[":  # an extension or Any type URL: [type.googleapis.com/...]
            parts = []
            while tokens[i][1] != "]":
                parts.append(tokens[i][1])
                i += 1
            name = "[" + "".join(parts) + "]"
            i += 1
        if tokens[i] == ("punct", ":"):
            i += 1
        kind, text = tokens[i]
        if kind == "punct" and text in ("{", "<"):
            value, i = _parse(tokens, i + 1, "}" if text == "{" else ">")
            fields.append((name, value))
        elif kind == "punct" and text == "[":
            i += 1
            while tokens[i][1] != "]":
                kind, text = tokens[i]
                if text == ",":
                    i += 1
                    continue
                if text in ("{", "<"):
                    value, i = _parse(tokens, i + 1, "}" if text == "{" else ">")
                    fields.append((name, value))
                else:
                    fields.append((name, _unescape(text) if kind == "string" else text))
                    i += 1
            i += 1
        else:
            if kind == "string":
                joined = _unescape(text)
                while i + 1 < len(tokens) and tokens[i + 1][0] == "string":  # "a" "b"
                    i += 1
                    joined += _unescape(tokens[i][1])
                fields.append((name, joined))
            else:
                fields.append((name, text))
            i += 1
    return fields, i


def parse_textproto(text: str) -> Message:
    tokens = list(_tokens(text))
    message, _ = _parse(tokens, 0, None)
    return message


def _get(message: Message, name: str) -> Any:
    return next((v for k, v in message if k == name), None)


def _all(message: Message, name: str) -> list[Any]:
    return [v for k, v in message if k == name]


# ------------------------------------------------------------ the tests


class NotComparable(Exception):
    """An expected value csrules cannot produce (protobuf messages, types, enums)."""


def expected_value(value: Message) -> Value:
    if not value:
        raise NotComparable("empty value")
    kind, raw = value[0]
    if kind in ("int64_value", "uint64_value"):
        return int(raw)
    if kind == "double_value":
        text = str(raw).lower()
        if text in ("inf", "infinity"):
            return math.inf
        if text in ("-inf", "-infinity"):
            return -math.inf
        if text == "nan":
            return math.nan
        return float(text)
    if kind == "string_value":
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    if kind == "bytes_value":
        return raw if isinstance(raw, bytes) else str(raw).encode()
    if kind == "bool_value":
        return raw == "true"
    if kind == "null_value":
        return None
    if kind == "list_value":
        return [expected_value(v) for v in _all(raw, "values")]
    if kind == "map_value":
        entries = _all(raw, "entries")
        return {expected_value(_get(e, "key")): expected_value(_get(e, "value")) for e in entries}
    raise NotComparable(kind)


@dataclass
class Case:
    file: str
    name: str
    expr: str
    expected: Value = None
    error: bool = False
    skip: str | None = None


@dataclass
class Tally:
    total: int = 0
    reference: int = 0
    columnar: int = 0
    compiled: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


_UNMAPPABLE = (
    "bindings",
    "type_env",
    "container",
    "disable_check",
    "disable_macros",
    "check_only",
    "typed_result",
    "any_eval_errors",
    "unknown",
    "any_unknowns",
)


def cases(path: Path) -> Iterator[Case]:
    document = parse_textproto(path.read_text(encoding="utf-8"))
    for section in _all(document, "section"):
        for test in _all(section, "test"):
            name = f"{_get(section, 'name')}/{_get(test, 'name')}"
            expr_raw = _get(test, "expr")
            expr = expr_raw.decode("utf-8") if isinstance(expr_raw, bytes) else str(expr_raw)
            case = Case(path.stem, name, expr)
            present = {k for k, _ in test}
            unmappable = [k for k in _UNMAPPABLE if k in present]
            if unmappable:
                case.skip = unmappable[0]
            elif "eval_error" in present:
                case.error = True
            elif "value" in present:
                try:
                    case.expected = expected_value(_get(test, "value"))
                except NotComparable as exc:
                    case.skip = f"value {exc}"
            else:
                case.skip = "no expectation"
            yield case


def same(expected: Value, actual: Value) -> bool:
    if isinstance(actual, EvalError | NoData):
        return False
    if isinstance(expected, float) and isinstance(actual, float):
        return (math.isnan(expected) and math.isnan(actual)) or expected == actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            same(expected[k], actual[k]) for k in expected
        )
    if isinstance(expected, int) and isinstance(actual, int):
        return expected == actual
    return type(expected) is type(actual) and bool(expected == actual)


def outcome(case: Case, actual: Value) -> bool:
    if case.error:
        return isinstance(actual, EvalError | NoData)
    return same(case.expected, actual)


ENV = TypeEnv(variables={}, functions=FUNCTIONS)
SPEC = SnapshotSpec(key="id", fields={"id": parse_field("string")})
BATCH = AccountBatch.from_records([{"id": "a"}], SPEC)


def run_file(path: Path) -> Tally:
    tally = Tally()
    for case in cases(path):
        tally.total += 1
        if case.skip is None and not check_source(case.expr, ENV).ok:
            case.skip = "type-checker"
        if case.skip is not None:
            key = case.skip.split(" ")[0]
            tally.skipped[key] = tally.skipped.get(key, 0) + 1
            continue
        try:
            reference = ReferenceKernel(case.expr, FUNCTIONS).evaluate([{}], NOW)[0]
        except Exception as exc:  # cel-python may raise outside an evaluation (parse)
            reference = EvalError(f"{type(exc).__name__}: {exc}")
        try:
            columnar = expression_values(case.expr, BATCH, NOW, FUNCTIONS)
        except Exception as exc:  # the reference's value conversion may raise too
            columnar = [EvalError(f"{type(exc).__name__}: {exc}")]
        if outcome(case, reference):
            tally.reference += 1
        if columnar is not None:
            tally.compiled += 1
            if outcome(case, columnar[0]):
                tally.columnar += 1
    return tally


FILES = sorted(CORPUS.glob("*.textproto")) if CORPUS.is_dir() else []


def test_text_format_reader() -> None:
    message = parse_textproto(
        'name: "x" section { test { name: "t" expr: "1 + 1" value: { int64_value: 2 } } }'
        " test { expr: 'a\\'b\\303\\251' value { list_value { values { int64_value: 1 } values { string_value: \"\\n\" } } } }"
    )
    section = _get(message, "section")
    assert _get(_get(section, "test"), "expr") == b"1 + 1"
    other = _get(message, "test")
    assert _get(other, "expr").decode() == "a'bé"
    assert expected_value(_get(other, "value")) == [1, "\n"]


@pytest.mark.skipif(not FILES, reason=f"the CEL conformance corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conformance_file(path: Path) -> None:
    tally = run_file(path)
    # where the columnar backend compiles a test it must agree with the reference, so
    # it can never pass more than the reference does
    assert tally.columnar <= tally.reference
    reference_floor, columnar_floor = RECORDED.get(path.stem, (0, 0))
    assert tally.reference >= reference_floor, (
        f"{path.stem}: reference passes {tally.reference}, recorded {reference_floor}"
    )
    assert tally.columnar >= columnar_floor, (
        f"{path.stem}: columnar passes {tally.columnar}, recorded {columnar_floor}"
    )


def summary() -> list[tuple[str, Tally]]:
    """Every file's tally (``python -m tests.test_cel_conformance`` prints the table)."""
    return [(path.stem, run_file(path)) for path in FILES]


if __name__ == "__main__":  # pragma: no cover - regenerates the recorded counts
    print("| file | tests | evaluated | reference passes | columnar compiles | columnar passes |")
    print("|---|---:|---:|---:|---:|---:|")
    for stem, tally in summary():
        evaluated = tally.total - sum(tally.skipped.values())
        print(
            f"| {stem} | {tally.total} | {evaluated} | {tally.reference} | {tally.compiled} | {tally.columnar} |"
        )
