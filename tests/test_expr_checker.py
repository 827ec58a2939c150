"""The CEL type-checker: accepted expressions and their types, every rejection with its
message and position, and a property test against what cel-python really evaluates."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import celpy
import celpy.celtypes as ct
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from csrules.expr import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    NULL,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    CelType,
    CheckResult,
    ExprIssue,
    FunctionSpec,
    ListType,
    MapType,
    Node,
    Overload,
    RecordType,
    TypeEnv,
    Variable,
    check,
    check_source,
    expect_type,
    parse,
    parse_type,
    standard_functions,
    to_cel,
    walk,
)

ACCOUNT = RecordType(
    "account",
    {
        "account_id": STRING,
        "name": STRING,
        "region": STRING,
        "arr": DOUBLE,
        "seats": INT,
        "active": BOOL,
        "tags": ListType(STRING),
        "adkar": MapType(STRING, INT),
        "renewal_date": TIMESTAMP,
        "csm": STRING,
        "nps": INT,
        "quota": UINT,
    },
    doc="one account record",
)
PORTFOLIO = RecordType("portfolio", {"arr_p80": DOUBLE})
TIER_LATER = (
    "'tier' is produced by stage 3 (tiers), which runs after this expression's stage 2 "
    "(segments); move this condition to a playbook or drop 'tier'"
)


def csrules_functions() -> dict[str, FunctionSpec]:
    functions = standard_functions()
    functions["days"] = FunctionSpec(
        "days", (Overload((INT,), DURATION), Overload((DOUBLE,), DURATION))
    )
    functions["days_since"] = FunctionSpec(
        "days_since", (Overload((TIMESTAMP,), DOUBLE),), needs_now=True
    )
    functions["clamp"] = FunctionSpec(
        "clamp",
        (Overload((INT, INT, INT), DOUBLE), Overload((DOUBLE, DOUBLE, DOUBLE), DOUBLE)),
    )
    return functions


ENV = TypeEnv(
    {
        "account": Variable(ACCOUNT),
        "now": Variable(TIMESTAMP),
        "portfolio": Variable(PORTFOLIO),
        "segments": Variable(ListType(STRING)),
        "tier": Variable(STRING, unavailable=TIER_LATER),
    },
    csrules_functions(),
)


def only_issue(source: str) -> ExprIssue:
    result = check_source(source, ENV)
    assert len(result.issues) == 1, result.issues
    return result.issues[0]


def located(issue: ExprIssue, source: str) -> str:
    return source[issue.start : issue.end]


# ------------------------------------------------------------------ acceptance


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("account.seats > 50", BOOL),
        ("double(account.seats) > 50.0", BOOL),
        ("account.arr >= portfolio.arr_p80 || 'strategic' in account.tags", BOOL),
        ("account.seats + 1", INT),
        ("account.arr * 1.5", DOUBLE),
        ("account.quota + 1u", UINT),
        ("account.seats % 7", INT),
        ("-account.arr", DOUBLE),
        ("account.name + '!'", STRING),
        ("b'a' + b'b'", BYTES),
        ("account.tags + ['x']", ListType(STRING)),
        ("account.tags + []", ListType(DYN)),
        ("now - account.renewal_date", DURATION),
        ("now + duration('336h')", TIMESTAMP),
        ("duration('1h') + now", TIMESTAMP),
        ("now - days(14)", TIMESTAMP),
        ("duration('1h30m') - duration('90m')", DURATION),
        ("account.renewal_date - now <= duration('2160h')", BOOL),
        ("timestamp('2026-01-15T09:00:00Z') < timestamp('2026-03-01T00:00:00+01:00')", BOOL),
        ("account.renewal_date.getMonth()", INT),
        ("account.renewal_date.getDayOfWeek('Europe/Berlin')", INT),
        ("duration('3h').getMinutes()", INT),
        ("int(account.arr)", INT),
        ("uint(account.seats)", UINT),
        ("string(account.arr)", STRING),
        ("bool('true')", BOOL),
        ("bytes('x')", BYTES),
        ("dyn(account.seats) > 1.0", BOOL),
        ("type(account.arr) == double", BOOL),
        ("type(1)", TYPE),
        ("size(account.tags) > 0 && size(account.name) > 0", BOOL),
        ("account.tags.size()", INT),
        ("size(account.adkar)", INT),
        ("account.region.startsWith('EU') && account.region.endsWith('t')", BOOL),
        ("account.region.contains('West')", BOOL),
        ("account.region.matches('^EU-(West|Central)$')", BOOL),
        ("matches(account.region, '\\\\pL+')", BOOL),
        ("account.adkar.awareness", INT),
        ("account.adkar['desire'] >= 2", BOOL),
        ("'desire' in account.adkar", BOOL),
        ("'seats' in account", BOOL),
        ("account['arr']", DOUBLE),
        ("account.tags[0]", STRING),
        ("has(account.nps)", BOOL),
        ("has(account.adkar.awareness)", BOOL),
        ("has(account.nps) ? account.nps : 0", INT),
        ("account.seats > 1 ? account.name : null", STRING),
        ("account.csm != ''", BOOL),
        ("account.tags.exists(t, t.startsWith('beta'))", BOOL),
        ("account.adkar.all(k, account.adkar[k] >= 2)", BOOL),
        ("[1, 2, 3].exists_one(x, x == 2)", BOOL),
        ("account.tags.map(t, size(t))", ListType(INT)),
        ("account.tags.filter(t, t.startsWith('beta'))", ListType(STRING)),
        ("account.adkar.filter(k, account.adkar[k] < 3)", ListType(STRING)),
        ("account.tags.map(t, [t]).exists(l, l[0] == 'x')", BOOL),
        ("account.tags.all(t, account.tags.exists(u, u == t))", BOOL),
        ("[1, 2]", ListType(INT)),
        ("[]", ListType(DYN)),
        ("['a', 1]", ListType(DYN)),
        ("{'a': 1, 'b': 2}", MapType(STRING, INT)),
        ("{'a': 1, 'b': 'x'}", MapType(STRING, DYN)),
        ("{}", MapType(DYN, DYN)),
        ("null", NULL),
        ("days_since(account.renewal_date) > 30.0", BOOL),
        ("clamp(account.seats, 0, 100)", DOUBLE),
        ("clamp(account.arr / 1000.0, 0.0, 1.0)", DOUBLE),
        ("account.tags == []", BOOL),
        ("account.adkar == {'awareness': 3}", BOOL),
        ("'strategic' in segments", BOOL),
        ("dyn(account).anything.goes", DYN),
    ],
)
def test_accepted_expressions_and_their_types(source: str, expected: CelType) -> None:
    result = check_source(source, ENV)
    assert result.issues == ()
    assert result.type == expected
    assert result.ok


# ------------------------------------------------------------------ rejection


@pytest.mark.parametrize(
    ("source", "message", "where", "line", "column"),
    [
        # spec §2.9: int/double mixing, with the fix in the author's own text
        (
            "account.seats > 50.0",
            "cannot compare int and double in 'account.seats > 50.0': "
            "write 'double(account.seats) > 50.0' or 'account.seats > 50'",
            "account.seats > 50.0",
            1,
            1,
        ),
        (
            "50.0 < account.seats",
            "cannot compare double and int in '50.0 < account.seats': "
            "write '50.0 < double(account.seats)' or '50 < account.seats'",
            "50.0 < account.seats",
            1,
            1,
        ),
        (
            "account.arr >= 100000",
            "cannot compare double and int in 'account.arr >= 100000': write 'account.arr >= 100000.0'",
            "account.arr >= 100000",
            1,
            1,
        ),
        (
            "account.seats == 2.5",
            "cannot compare int and double in 'account.seats == 2.5': write 'double(account.seats) == 2.5'",
            "account.seats == 2.5",
            1,
            1,
        ),
        (
            "account.seats + 1.0",
            "cannot add int and double in 'account.seats + 1.0': "
            "write 'double(account.seats) + 1.0' or 'account.seats + 1'",
            "account.seats + 1.0",
            1,
            1,
        ),
        (
            "account.arr / 2",
            "cannot divide double and int in 'account.arr / 2': write 'account.arr / 2.0'",
            "account.arr / 2",
            1,
            1,
        ),
        (
            "account.seats / 7.0",
            "cannot divide int and double in 'account.seats / 7.0': write 'double(account.seats) / 7.0'",
            "account.seats / 7.0",
            1,
            1,
        ),
        (
            "(account.seats + 1) * account.arr",
            "cannot multiply int and double in '(account.seats + 1) * account.arr': "
            "write 'double(account.seats + 1) * account.arr'",
            "(account.seats + 1) * account.arr",
            1,
            1,
        ),
        (
            "account.active &&\n  account.seats > 1.5",
            "cannot compare int and double in 'account.seats > 1.5': write 'double(account.seats) > 1.5'",
            "account.seats > 1.5",
            2,
            3,
        ),
        (
            "account.quota == 1",
            "cannot compare uint and int in 'account.quota == 1': "
            "write 'int(account.quota) == 1' or 'account.quota == 1u'",
            "account.quota == 1",
            1,
            1,
        ),
        (
            "account.seats + 1u",
            "cannot add int and uint in 'account.seats + 1u': write 'account.seats + 1'",
            "account.seats + 1u",
            1,
            1,
        ),
        (
            "account.quota < 2.5",
            "cannot compare uint and double in 'account.quota < 2.5': write 'double(account.quota) < 2.5'",
            "account.quota < 2.5",
            1,
            1,
        ),
        (
            "account.seats in [1.0, 2.0]",
            "cannot compare int and double in 'account.seats in [1.0, 2.0]': "
            "write 'double(account.seats) in [1.0, 2.0]'",
            "account.seats in [1.0, 2.0]",
            1,
            1,
        ),
        (
            "account.active ? 1 : 2.5",
            "the branches of '? :' cannot mix int and double in 'account.active ? 1 : 2.5': "
            "write 'account.active ? 1.0 : 2.5'",
            "account.active ? 1 : 2.5",
            1,
            1,
        ),
        (
            "[1, 2.5]",
            "this list mixes int and double items, which CEL never converts into each other: "
            "write them all as double",
            "[1, 2.5]",
            1,
            1,
        ),
        (
            "account.arr % 2",
            "'%' needs int or uint operands (CEL has no remainder of doubles): "
            "write 'int(account.arr) % 2'",
            "account.arr % 2",
            1,
            1,
        ),
        (
            "clamp(account.seats, 0.0, 1.0)",
            "no overload of 'clamp' takes clamp(int, double, double); accepted: "
            "clamp(int, int, int), clamp(double, double, double): "
            "write 'clamp(double(account.seats), 0.0, 1.0)'",
            "clamp(account.seats, 0.0, 1.0)",
            1,
            1,
        ),
        # names
        (
            "account.ar > 1.0",
            "unknown field 'account.ar' (did you mean 'arr'?)",
            "account.ar",
            1,
            1,
        ),
        (
            "account.ARR > 1.0",
            "unknown field 'account.ARR' (did you mean 'arr'?)",
            "account.ARR",
            1,
            1,
        ),
        (
            "account.zzz",
            "unknown field 'account.zzz'; account has account_id, name, region, arr, seats, "
            "active, tags, adkar and 4 more",
            "account.zzz",
            1,
            1,
        ),
        (
            "portfolio.arr_p90",
            "unknown field 'portfolio.arr_p90' (did you mean 'arr_p80'?)",
            "portfolio.arr_p90",
            1,
            1,
        ),
        (
            "has(account.npz)",
            "unknown field 'account.npz' (did you mean 'nps'?)",
            "account.npz",
            1,
            5,
        ),
        (
            "acount.arr",
            "unknown variable 'acount' (did you mean 'account'?)",
            "acount",
            1,
            1,
        ),
        (
            "x > 1",
            "unknown variable 'x'; known variables: account, now, portfolio, segments, tier",
            "x",
            1,
            1,
        ),
        ("tier == 'pooled'", TIER_LATER, "tier", 1, 1),
        ("days > 1", "'days' is a function: call it as days(...)", "days", 1, 1),
        (
            "account.tags.exists(t, t == u)",
            "unknown variable 'u'; known variables: account, now, portfolio, segments, t, tier",
            "u",
            1,
            29,
        ),
        # functions
        (
            "lowerAscii(account.name)",
            "unknown function 'lowerAscii' (CEL extension libraries are not available in cel-python)",
            "lowerAscii(account.name)",
            1,
            1,
        ),
        (
            "math.greatest(1, 2)",
            "unknown function 'math.greatest' (CEL extension libraries are not available in cel-python)",
            "math.greatest(1, 2)",
            1,
            1,
        ),
        ("day(3)", "unknown function 'day' (did you mean 'days' or 'dyn'?)", "day(3)", 1, 1),
        (
            "size(account.seats)",
            "no overload of 'size' takes size(int); accepted: size(string), size(bytes), "
            "size(list<dyn>), size(map<dyn, dyn>)",
            "size(account.seats)",
            1,
            1,
        ),
        (
            "account.name.startsWith(1)",
            "no overload of 'startsWith' takes string.startsWith(int); accepted: string.startsWith(string)",
            "account.name.startsWith(1)",
            1,
            1,
        ),
        (
            "startsWith(account.name, 'A')",
            "'startsWith' is a method: write \"account.name.startsWith('A')\"",
            "startsWith(account.name, 'A')",
            1,
            1,
        ),
        (
            "account.arr.clamp(0.0, 1.0)",
            "'clamp' is not a method: write 'clamp(account.arr, 0.0, 1.0)'",
            "account.arr.clamp(0.0, 1.0)",
            1,
            1,
        ),
        ("days(1, 2)", "'days' takes 1 argument, but 2 were given", "days(1, 2)", 1, 1),
        (
            "account.tags.size",
            "'account.tags' is list<string>, which has no fields: did you mean 'account.tags.size()'?",
            "account.tags.size",
            1,
            1,
        ),
        (
            "string(account.active)",
            "string() of a bool differs between backends (cel-python writes 'True', CEL writes "
            "'true'): write 'account.active ? \"true\" : \"false\"'",
            "string(account.active)",
            1,
            1,
        ),
        # literal arguments cel-python gets wrong
        (
            'duration("14d")',
            'invalid duration "14d": CEL durations use the units h, m, s, ms, us and ns, not "d" '
            "(cel-python accepts \"d\" but other CEL runtimes do not): write 'days(14)' or "
            "'duration(\"336h\")'",
            '"14d"',
            1,
            10,
        ),
        (
            'duration("2w")',
            'invalid duration "2w": CEL durations use the units h, m, s, ms, us and ns, not "w": '
            "write 'days(14)' or 'duration(\"336h\")'",
            '"2w"',
            1,
            10,
        ),
        (
            'duration("1.5d")',
            'invalid duration "1.5d": CEL durations use the units h, m, s, ms, us and ns, not "d" '
            "(cel-python accepts \"d\" but other CEL runtimes do not): write 'days(1.5)' or "
            "'duration(\"36h\")'",
            '"1.5d"',
            1,
            10,
        ),
        (
            'duration("0")',
            'invalid duration "0": CEL needs a unit even for zero: write \'duration("0s")\'',
            '"0"',
            1,
            10,
        ),
        (
            'duration("soon")',
            'invalid duration "soon": write it like "90m", "1h30m" or "336h" '
            "(CEL durations use the units h, m, s, ms, us and ns)",
            '"soon"',
            1,
            10,
        ),
        (
            'timestamp("2026-01-01")',
            'invalid timestamp "2026-01-01": a timestamp needs a time and a zone: '
            "write 'timestamp(\"2026-01-01T00:00:00Z\")'",
            '"2026-01-01"',
            1,
            11,
        ),
        (
            'timestamp("2026-01-01t00:00:00z")',
            "invalid timestamp \"2026-01-01t00:00:00z\": write 'T' and 'Z' in upper case "
            "(cel-python rejects lower case): 'timestamp(\"2026-01-01T00:00:00Z\")'",
            '"2026-01-01t00:00:00z"',
            1,
            11,
        ),
        (
            'timestamp("2026-02-30T00:00:00Z")',
            'invalid timestamp "2026-02-30T00:00:00Z": day is out of range for month',
            '"2026-02-30T00:00:00Z"',
            1,
            11,
        ),
        (
            'timestamp("next monday")',
            'invalid timestamp "next monday": write an RFC 3339 date-time such as "2026-03-01T00:00:00Z"',
            '"next monday"',
            1,
            11,
        ),
        (
            "account.region.matches('(?=EU)')",
            "invalid regular expression '(?=EU)': CEL uses RE2, which has no lookahead, "
            "lookbehind or backreferences",
            "'(?=EU)'",
            1,
            24,
        ),
        (
            "account.region.matches('[EU')",
            "invalid regular expression '[EU': unterminated character set at position 0",
            "'[EU'",
            1,
            24,
        ),
        (
            "now.getHours('Europe/Pariss')",
            "unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?)",
            "'Europe/Pariss'",
            1,
            14,
        ),
        # time arithmetic and comparisons
        (
            "now - account.renewal_date > 90",
            "cannot compare duration and int in 'now - account.renewal_date > 90': "
            "if 90 is a number of days, write 'now - account.renewal_date > days(90)'",
            "now - account.renewal_date > 90",
            1,
            1,
        ),
        (
            "account.renewal_date < '2026-01-01T00:00:00Z'",
            "cannot compare timestamp and string in \"account.renewal_date < '2026-01-01T00:00:00Z'\": "
            "write \"account.renewal_date < timestamp('2026-01-01T00:00:00Z')\"",
            "account.renewal_date < '2026-01-01T00:00:00Z'",
            1,
            1,
        ),
        (
            "duration('1h') - now",
            "cannot subtract duration and timestamp in \"duration('1h') - now\"",
            "duration('1h') - now",
            1,
            1,
        ),
        (
            "now + now",
            "cannot add timestamp and timestamp in 'now + now'",
            "now + now",
            1,
            1,
        ),
        (
            "-duration('1h')",
            "'-' needs int or double, but \"duration('1h')\" is duration",
            "-duration('1h')",
            1,
            1,
        ),
        # bool contexts
        (
            "!account.seats",
            "the operand of '!' must be bool, but this expression is int",
            "account.seats",
            1,
            2,
        ),
        (
            "account.seats && true",
            "the left operand of '&&' must be bool, but this expression is int",
            "account.seats",
            1,
            1,
        ),
        (
            "true || account.name",
            "the right operand of '||' must be bool, but this expression is string",
            "account.name",
            1,
            9,
        ),
        (
            "account.seats ? 1 : 2",
            "the condition of '? :' must be bool, but this expression is int",
            "account.seats",
            1,
            1,
        ),
        (
            "account.active ? 'a' : 1",
            "the branches of '? :' must have the same type, but they are string and int",
            "account.active ? 'a' : 1",
            1,
            1,
        ),
        # membership, indexing, selection
        (
            "'EU' in account.region",
            "'in' needs a list or a map on the right, but 'account.region' is string: "
            "to test for a substring write \"account.region.contains('EU')\"",
            "'EU' in account.region",
            1,
            1,
        ),
        (
            "1 in account.tags",
            "cannot look for int in 'account.tags', whose items are string",
            "1 in account.tags",
            1,
            1,
        ),
        (
            "account.tags['a']",
            "a list index must be int, but this expression is string",
            "'a'",
            1,
            14,
        ),
        (
            "account.adkar[1]",
            "the keys of 'account.adkar' are string, but this expression is int",
            "1",
            1,
            15,
        ),
        (
            "account.seats[0]",
            "'account.seats' is int, which cannot be indexed",
            "account.seats[0]",
            1,
            1,
        ),
        (
            "account['nmae']",
            "unknown field 'nmae' of account (did you mean 'name'?)",
            "account['nmae']",
            1,
            1,
        ),
        (
            "account.adkar.awareness.level",
            "'account.adkar.awareness' is int, which has no fields",
            "account.adkar.awareness.level",
            1,
            1,
        ),
        (
            "{1.5: 'x'}",
            "a map key must be int, uint, bool or string, but this key is double",
            "1.5",
            1,
            2,
        ),
        (
            "has(account.tags.x)",
            "has() needs a field of a record or a map, but 'account.tags' is list<string>",
            "has(account.tags.x)",
            1,
            1,
        ),
        (
            "account.tags + [1]",
            "cannot add list<string> and list<int> in 'account.tags + [1]'",
            "account.tags + [1]",
            1,
            1,
        ),
        (
            "'n=' + account.seats",
            "cannot add string and int in \"'n=' + account.seats\": write \"'n=' + string(account.seats)\"",
            "'n=' + account.seats",
            1,
            1,
        ),
        (
            "account.tags < ['a']",
            "list<string> values cannot be ordered with '<' in \"account.tags < ['a']\"",
            "account.tags < ['a']",
            1,
            1,
        ),
        (
            "account.name == 1",
            "cannot compare string and int in 'account.name == 1'",
            "account.name == 1",
            1,
            1,
        ),
        # null: compares with anything but numbers (cel-python raises for those)
        (
            "account.seats != null",
            "cannot compare int with null in 'account.seats != null' (cel-python has no such "
            "overload): to test whether the field is present write 'has(account.seats)'",
            "account.seats != null",
            1,
            1,
        ),
        # macros
        (
            "account.tags.exists(t, size(t))",
            "the condition of exists() must be bool, but this expression is int",
            "size(t)",
            1,
            24,
        ),
        (
            "account.seats.all(x, true)",
            "all() needs a list or a map, but 'account.seats' is int",
            "account.seats",
            1,
            1,
        ),
        (
            "[1, 2, 3].map(x, x > 1, x * 10)",
            "map() with a filter (three arguments) is not supported by cel-python: "
            "write '[1, 2, 3].filter(x, x > 1).map(x, x * 10)'",
            "[1, 2, 3].map(x, x > 1, x * 10)",
            1,
            1,
        ),
        # syntax errors come back as one issue
        (
            "account.arr >",
            "the expression ends too early after 'account.arr >': expected a value "
            "(a name, number, string, list, map or '(')",
            "",
            1,
            14,
        ),
    ],
)
def test_rejections_name_the_problem_and_its_place(
    source: str, message: str, where: str, line: int, column: int
) -> None:
    issue = only_issue(source)
    assert issue.message == message
    assert issue.severity == "error"
    assert located(issue, source) == where
    assert (issue.line, issue.column) == (line, column)


def test_every_issue_is_reported_in_source_order() -> None:
    source = "account.seats > 50.0 && account.ar > 1.0 || foo"
    issues = check_source(source, ENV).issues
    assert [located(i, source) for i in issues] == ["account.seats > 50.0", "account.ar", "foo"]
    assert [i.column for i in issues] == [1, 25, 45]


def test_one_mistake_is_reported_once() -> None:
    result = check_source("(account.ar + 1.0) * 2.0 > 3.0 && account.ar.size() > 0", ENV)
    assert [i.message for i in result.issues] == [
        "unknown field 'account.ar' (did you mean 'arr'?)",
        "unknown field 'account.ar' (did you mean 'arr'?)",
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "account.csm == null",
            "'account.csm == null' is never true: a null field counts as absent and reading an "
            "absent field gives no data: write '!has(account.csm)'",
        ),
        (
            "account.csm != null",
            "a null field counts as absent: write 'has(account.csm)' to test for a value",
        ),
    ],
)
def test_null_checks_on_fields_are_warnings_pointing_to_has(source: str, message: str) -> None:
    result = check_source(source, ENV)
    assert result.type == BOOL
    assert [(i.message, i.severity) for i in result.issues] == [(message, "warning")]
    assert result.ok


def test_null_compares_with_non_numbers_without_issue() -> None:
    assert check_source("now != null && null != [1] && 'a' == null", ENV).issues == ()


def test_dyn_passes_every_check() -> None:
    result = check_source("dyn(account.seats) + 1.5 > dyn('x') && dyn(1) in dyn([])", ENV)
    assert result.issues == ()
    assert result.type == BOOL


def test_check_without_source_quotes_canonical_text() -> None:
    node = parse("account.seats   >   (50.0)")
    issue = check(node, ENV).issues[0]
    assert issue.message == (
        "cannot compare int and double in 'account.seats > 50.0': "
        "write 'double(account.seats) > 50.0' or 'account.seats > 50'"
    )


def test_messages_fold_multi_line_source() -> None:
    issue = only_issue("account.seats\n   > 50.0")
    assert "in 'account.seats > 50.0'" in issue.message


def test_unavailable_variable_still_types_its_uses() -> None:
    # Only the stage-order error: `tier` keeps its declared type for the rest of the check.
    result = check_source("tier == 'a' && tier.size() > 0", ENV)
    assert [i.message for i in result.issues] == [TIER_LATER, TIER_LATER]
    assert result.type == BOOL


def test_env_functions_come_from_the_caller() -> None:
    env = TypeEnv({"account": Variable(ACCOUNT)}, standard_functions())
    issue = check_source("days(3)", env).issues[0]
    assert issue.message.startswith("unknown function 'days'")
    issue = check_source('duration("3d")', env).issues[0]
    assert issue.message.endswith("write 'duration(\"72h\")'")


def test_qualified_plugin_functions_resolve() -> None:
    functions = {
        **standard_functions(),
        "crm.score": FunctionSpec("crm.score", (Overload((STRING,), DOUBLE),)),
    }
    env = TypeEnv({"account": Variable(ACCOUNT)}, functions)
    result = check_source("crm.score(account.name) > 0.5", env)
    assert result.issues == ()


# ----------------------------------------------------------------- expect_type


def test_expect_type_reports_the_whole_expression() -> None:
    source = "  account.arr * 2.0"
    result = check_source(source, ENV)
    issue = expect_type(result, (BOOL,), "a segment's 'when'")
    assert issue == ExprIssue(
        "a segment's 'when' must be bool, but this expression is double", 1, 3, 2, 19
    )
    bare = expect_type(result, (INT, UINT), "")
    assert bare is not None and bare.message == "must be int or uint, but this expression is double"


def test_expect_type_accepts_allowed_and_dyn() -> None:
    assert expect_type(check_source("account.seats > 1", ENV), (BOOL,), "when") is None
    assert expect_type(check_source("dyn(1)", ENV), (BOOL,), "when") is None
    assert expect_type(check_source("account.tags", ENV), (ListType(DYN),), "x") is None


def test_expect_type_after_a_syntax_error_has_nothing_to_add() -> None:
    result = check_source("account.seats >", ENV)
    assert result.node is None
    assert expect_type(result, (BOOL,), "when") is None


# ------------------------------------------------------------------------ types


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("int", INT),
        ("list<string>", ListType(STRING)),
        ("map<string, int>", MapType(STRING, INT)),
        ("map<string,list<double>>", MapType(STRING, ListType(DOUBLE))),
    ],
)
def test_type_spelling_round_trips(spelling: str, expected: CelType) -> None:
    assert parse_type(spelling) == expected
    assert parse_type(str(expected)) == expected


@pytest.mark.parametrize("spelling", ["integer", "list<int", "map<string>", "int int", "list<>"])
def test_bad_type_spellings_raise(spelling: str) -> None:
    with pytest.raises(ValueError):
        parse_type(spelling)


def test_record_types_are_hashable_and_read_only() -> None:
    assert hash(ACCOUNT) == hash(dataclasses.replace(ACCOUNT, doc="other"))
    assert {ACCOUNT: 1}[ACCOUNT] == 1
    with pytest.raises(TypeError):
        ACCOUNT.fields["x"] = INT  # type: ignore[index]


# -------------------------------------------------- property: agree with cel-python

GEN_ACCOUNT = RecordType(
    "account",
    {
        "seats": INT,
        "arr": DOUBLE,
        "name": STRING,
        "active": BOOL,
        "tags": ListType(STRING),
        "adkar": MapType(STRING, INT),
        "renewal": TIMESTAMP,
    },
)
GEN_ENV = TypeEnv({"account": Variable(GEN_ACCOUNT)}, standard_functions())
LIST_STRING = ListType(STRING)
LIST_INT = ListType(INT)
MAP_STRING_INT = MapType(STRING, INT)
GEN_TYPES: list[CelType] = [
    INT,
    DOUBLE,
    STRING,
    BOOL,
    TIMESTAMP,
    DURATION,
    LIST_STRING,
    LIST_INT,
    MAP_STRING_INT,
]
ADKAR_KEYS = ("awareness", "desire")

Draw = Callable[[st.SearchStrategy[Any]], Any]
Scope = dict[str, CelType]


class ExprGenerator:
    """Random well-typed CEL over GEN_ACCOUNT, avoiding run-time errors (no division by
    expressions, no missing keys, no out-of-range indexes, small numbers)."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.fresh = 0

    def pick(self, options: list[Callable[[], str]]) -> str:
        choice: Callable[[], str] = self.draw(st.sampled_from(options))
        return choice()

    def variable(self) -> str:
        self.fresh += 1
        return f"v{self.fresh}"

    def scoped(self, scope: Scope, t: CelType) -> list[Callable[[], str]]:
        return [lambda name=name: name for name, vt in scope.items() if vt == t]

    def expr(self, t: CelType, depth: int, scope: Scope) -> str:
        leaves = self.leaves(t, scope)
        if depth <= 0 or self.draw(st.integers(0, 2)) == 0:
            return self.pick(leaves)
        return self.pick(self.compounds(t, depth - 1, scope))

    def leaves(self, t: CelType, scope: Scope) -> list[Callable[[], str]]:
        d = self.draw
        small_int = st.integers(0, 50)
        options: dict[CelType, list[Callable[[], str]]] = {
            INT: [
                lambda: str(d(small_int)),
                lambda: "account.seats",
                lambda: "size(account.name)",
                lambda: "account.tags.size()",
                lambda: "account.adkar.desire",
                lambda: f'account.adkar["{d(st.sampled_from(ADKAR_KEYS))}"]',
                lambda: "int(account.arr)",
                lambda: "account.renewal.getMonth()",
                lambda: 'account.renewal.getDayOfWeek("Europe/Paris")',
            ],
            DOUBLE: [
                lambda: f"{d(st.integers(0, 10_000)) / 100:.2f}",
                lambda: "account.arr",
                lambda: "double(account.seats)",
            ],
            STRING: [
                lambda: repr(d(st.text("abc -", max_size=4))),
                lambda: "account.name",
            ],
            BOOL: [
                lambda: d(st.sampled_from(["true", "false"])),
                lambda: "account.active",
                lambda: "has(account.name)",
            ],
            TIMESTAMP: [
                lambda: "account.renewal",
                lambda: 'timestamp("2026-03-01T09:00:00Z")',
            ],
            DURATION: [
                lambda: d(
                    st.sampled_from(['duration("90m")', 'duration("1h30m")', 'duration("336h")'])
                )
            ],
            LIST_STRING: [lambda: "account.tags", lambda: '["x", "y"]'],
            LIST_INT: [lambda: "[1, 2]", lambda: "account.tags.map(t, size(t))"],
            MAP_STRING_INT: [lambda: "account.adkar", lambda: '{"a": 1}'],
        }
        return options[t] + self.scoped(scope, t)

    def compounds(self, t: CelType, depth: int, scope: Scope) -> list[Callable[[], str]]:
        def e(of: CelType) -> str:
            return self.expr(of, depth, scope)

        def ternary() -> str:
            return f"({e(BOOL)} ? {e(t)} : {e(t)})"

        def positive(of: CelType) -> str:
            value = self.draw(st.integers(1, 9))
            return f"{value}.0" if of == DOUBLE else str(value)

        def macro_over(range_type: CelType, macro: str, body_type: CelType) -> str:
            v = self.variable()
            elem = range_type.elem if isinstance(range_type, ListType) else STRING
            body = self.expr(body_type, depth, {**scope, v: elem})
            return f"{e(range_type)}.{macro}({v}, {body})"

        def comparison() -> str:
            of = self.draw(st.sampled_from([INT, DOUBLE, STRING, TIMESTAMP, DURATION, BOOL]))
            op = self.draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
            return f"({e(of)} {op} {e(of)})"

        options: dict[CelType, list[Callable[[], str]]] = {
            INT: [
                lambda: f"({e(INT)} + {e(INT)})",
                lambda: f"({e(INT)} - {e(INT)})",
                lambda: f"({e(INT)} * {positive(INT)})",
                lambda: f"({e(INT)} / {positive(INT)})",
                lambda: f"({e(INT)} % {positive(INT)})",
                lambda: f"-({e(INT)})",
                lambda: f"size({e(LIST_STRING)})",
                lambda: f"size({e(MAP_STRING_INT)})",
                lambda: f"{e(TIMESTAMP)}.getFullYear()",
                lambda: f"{e(DURATION)}.getMinutes()",
                ternary,
            ],
            DOUBLE: [
                lambda: f"({e(DOUBLE)} + {e(DOUBLE)})",
                lambda: f"({e(DOUBLE)} - {e(DOUBLE)})",
                lambda: f"({e(DOUBLE)} * {e(DOUBLE)})",
                lambda: f"({e(DOUBLE)} / {positive(DOUBLE)})",
                lambda: f"double({e(INT)})",
                lambda: f"-({e(DOUBLE)})",
                ternary,
            ],
            STRING: [
                lambda: f"({e(STRING)} + {e(STRING)})",
                lambda: f"string({e(INT)})",
                lambda: f"string({e(TIMESTAMP)})",
                ternary,
            ],
            BOOL: [
                comparison,
                lambda: f"({e(BOOL)} && {e(BOOL)})",
                lambda: f"({e(BOOL)} || {e(BOOL)})",
                lambda: f"!({e(BOOL)})",
                lambda: f"({e(STRING)} in {e(LIST_STRING)})",
                lambda: f"({e(STRING)} in {e(MAP_STRING_INT)})",
                lambda: f"({e(INT)} in {e(LIST_INT)})",
                lambda: f"{e(STRING)}.startsWith({e(STRING)})",
                lambda: f"{e(STRING)}.contains({e(STRING)})",
                lambda: f"({e(LIST_STRING)} == {e(LIST_STRING)})",
                lambda: macro_over(LIST_STRING, "exists", BOOL),
                lambda: macro_over(LIST_STRING, "all", BOOL),
                lambda: macro_over(LIST_INT, "exists_one", BOOL),
                lambda: macro_over(MAP_STRING_INT, "exists", BOOL),
                ternary,
            ],
            TIMESTAMP: [
                lambda: f"({e(TIMESTAMP)} + {e(DURATION)})",
                lambda: f"({e(TIMESTAMP)} - {e(DURATION)})",
            ],
            DURATION: [
                lambda: f"({e(TIMESTAMP)} - {e(TIMESTAMP)})",
                lambda: f"({e(DURATION)} + {e(DURATION)})",
            ],
            LIST_STRING: [
                lambda: f"({e(LIST_STRING)} + {e(LIST_STRING)})",
                lambda: f"[{e(STRING)}, {e(STRING)}]",
                lambda: macro_over(LIST_STRING, "filter", BOOL),
                lambda: macro_over(LIST_STRING, "map", STRING),
                lambda: macro_over(MAP_STRING_INT, "filter", BOOL),
                ternary,
            ],
            LIST_INT: [
                lambda: f"[{e(INT)}]",
                lambda: macro_over(LIST_STRING, "map", INT),
                lambda: macro_over(LIST_INT, "filter", BOOL),
                ternary,
            ],
            MAP_STRING_INT: [lambda: f'{{"k": {e(INT)}}}', ternary],
        }
        return options[t]


@st.composite
def typed_expressions(draw: Draw) -> tuple[str, CelType]:
    t: CelType = draw(st.sampled_from(GEN_TYPES))
    return ExprGenerator(draw).expr(t, 3, {}), t


accounts = st.fixed_dictionaries(
    {
        "seats": st.integers(0, 1000),
        "arr": st.floats(0, 1e6, allow_nan=False),
        "name": st.text("abc -", max_size=6),
        "active": st.booleans(),
        "tags": st.lists(st.text("abc", max_size=3), max_size=3),
        "adkar": st.fixed_dictionaries({key: st.integers(1, 5) for key in ADKAR_KEYS}),
        "renewal": st.datetimes(
            min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2035, 1, 1)
        ).map(lambda d: ct.TimestampType(d.replace(tzinfo=datetime.UTC))),
    }
)


def runtime_type(value: object) -> CelType:
    """The CEL type of a value cel-python produced (lists/maps typed by their items)."""
    if isinstance(value, bool | ct.BoolType):
        return BOOL
    if isinstance(value, ct.UintType):
        return UINT
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, bytes):
        return BYTES
    if isinstance(value, ct.TimestampType):
        return TIMESTAMP
    if isinstance(value, ct.DurationType):
        return DURATION
    if isinstance(value, list):
        items = {runtime_type(item) for item in value}
        return ListType(items.pop() if len(items) == 1 else DYN)
    if isinstance(value, dict):
        keys = {runtime_type(k) for k in value}
        values = {runtime_type(v) for v in value.values()}
        return MapType(
            keys.pop() if len(keys) == 1 else DYN, values.pop() if len(values) == 1 else DYN
        )
    raise AssertionError(f"unexpected value from cel-python: {value!r}")


CEL_ENV = celpy.Environment()


def evaluate(source: str, account: dict[str, Any]) -> object:
    program = CEL_ENV.program(CEL_ENV.compile(source))
    return program.evaluate({"account": celpy.json_to_cel(account)})


def same_shape(a: Node, b: Node) -> bool:
    def strip(node: object) -> object:
        if isinstance(node, Node):
            fields = [f.name for f in dataclasses.fields(node)]
            kept = [name for name in fields if name not in ("start", "end", "line", "column")]
            return (type(node).__name__, *(strip(getattr(node, name)) for name in kept))
        if isinstance(node, tuple):
            return tuple(strip(item) for item in node)
        return node

    return strip(a) == strip(b)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed_expressions(), accounts)
def test_generated_expressions_check_clean_and_match_cel_python(
    generated: tuple[str, CelType], account: dict[str, Any]
) -> None:
    source, expected = generated
    result: CheckResult = check_source(source, GEN_ENV)
    assert result.issues == (), source
    assert result.type == expected, source
    try:
        value = evaluate(source, account)
    except celpy.CELEvalError:
        reject()
    actual = runtime_type(value)
    if isinstance(expected, ListType | MapType):
        assert actual == expected or actual in (ListType(DYN), MapType(DYN, DYN)), (source, value)
    else:
        assert actual == expected, (source, value)


@settings(max_examples=200, deadline=None)
@given(typed_expressions())
def test_generated_expressions_round_trip_through_to_cel(generated: tuple[str, CelType]) -> None:
    source, _ = generated
    node = parse(source)
    text = to_cel(node)
    assert same_shape(parse(text), node), (source, text)


@settings(max_examples=200, deadline=None)
@given(typed_expressions())
def test_every_sub_expression_span_reparses_to_the_same_sub_tree(
    generated: tuple[str, CelType],
) -> None:
    source, _ = generated
    for node in walk(parse(source)):
        piece = node.source_text(source)
        assert same_shape(parse(piece), node), (source, piece)
        assert (node.line, node.column) == (1, node.start + 1)
