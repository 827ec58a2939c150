"""Parsing CEL into csrules' own AST: shapes, positions, limits and syntax messages."""

from __future__ import annotations

import celpy.celparser
import pytest

from csrules.expr import (
    BOOL,
    BYTES,
    DOUBLE,
    INT,
    NULL,
    STRING,
    UINT,
    Binary,
    Call,
    Comprehension,
    Conditional,
    ExprSyntaxError,
    Has,
    Ident,
    Index,
    ListLit,
    Literal,
    MapLit,
    Node,
    Select,
    Unary,
    parse,
    to_cel,
    tree_depth,
    walk,
)


def span(node: Node) -> tuple[int, int, int, int]:
    return node.start, node.end, node.line, node.column


# ----------------------------------------------------------------- tree shapes


def test_comparison_of_a_field_with_a_literal() -> None:
    node = parse("account.seats > 50")
    assert isinstance(node, Binary)
    assert node.op == ">"
    assert isinstance(node.left, Select)
    assert node.left.field == "seats"
    assert node.left.operand == Ident("account", start=0, end=7, line=1, column=1)
    assert node.right == Literal(50, INT, start=16, end=18, line=1, column=17)
    assert span(node) == (0, 18, 1, 1)
    assert span(node.left) == (0, 13, 1, 1)


@pytest.mark.parametrize(
    ("source", "op"),
    [
        ("a + b", "+"),
        ("a - b", "-"),
        ("a * b", "*"),
        ("a / b", "/"),
        ("a % b", "%"),
        ("a == b", "=="),
        ("a != b", "!="),
        ("a < b", "<"),
        ("a <= b", "<="),
        ("a > b", ">"),
        ("a >= b", ">="),
        ("a in b", "in"),
        ("a && b", "&&"),
        ("a || b", "||"),
    ],
)
def test_every_binary_operator(source: str, op: str) -> None:
    node = parse(source)
    assert isinstance(node, Binary)
    assert node.op == op
    assert node.left == Ident("a", start=0, end=1, line=1, column=1)
    assert isinstance(node.right, Ident)
    assert node.right.name == "b"


def test_precedence_and_left_associativity() -> None:
    node = parse("a - b - c * d || e && f")
    assert to_cel(node) == "a - b - c * d || e && f"
    assert isinstance(node, Binary) and node.op == "||"
    left = node.left
    assert isinstance(left, Binary) and left.op == "-"
    assert isinstance(left.left, Binary) and left.left.op == "-"
    assert isinstance(left.right, Binary) and left.right.op == "*"
    assert isinstance(node.right, Binary) and node.right.op == "&&"


def test_parentheses_disappear_but_the_span_of_the_outer_node_covers_them() -> None:
    node = parse("(a + b) * c")
    assert isinstance(node, Binary) and node.op == "*"
    assert span(node) == (0, 11, 1, 1)
    assert span(node.left) == (1, 6, 1, 2)


def test_conditional_unary_index_and_literals() -> None:
    node = parse('!x ? -y[0] : {"k": [1u, 2.5, b"z", null, true]}')
    assert isinstance(node, Conditional)
    assert node.cond == Unary(
        "!", Ident("x", start=1, end=2, line=1, column=2), start=0, end=2, line=1, column=1
    )
    then = node.then
    assert isinstance(then, Unary) and then.op == "-"
    assert isinstance(then.operand, Index)
    assert then.operand.index == Literal(0, INT, start=8, end=9, line=1, column=9)
    else_ = node.else_
    assert isinstance(else_, MapLit)
    key, value = else_.entries[0]
    assert key == Literal("k", STRING, start=14, end=17, line=1, column=15)
    assert isinstance(value, ListLit)
    assert [(item.value, item.type) for item in value.items if isinstance(item, Literal)] == [
        (1, UINT),
        (2.5, DOUBLE),
        (b"z", BYTES),
        (None, NULL),
        (True, BOOL),
    ]


@pytest.mark.parametrize(
    ("source", "value", "type_"),
    [
        ("0x1F", 31, INT),
        ("-0x10", -16, INT),
        ("-9223372036854775808", -(2**63), INT),
        ("18446744073709551615u", 2**64 - 1, UINT),
        ("1e3", 1000.0, DOUBLE),
        (".5", 0.5, DOUBLE),
        ("'single'", "single", STRING),
        ('"tab\\there"', "tab\there", STRING),
        ('"\\u00e9"', "é", STRING),
        ('r"raw\\n"', "raw\\n", STRING),
        ('"""triple"""', "triple", STRING),
        ('b"\\xff"', b"\xff", BYTES),
        ("false", False, BOOL),
    ],
)
def test_literal_values(source: str, value: object, type_: object) -> None:
    node = parse(source)
    assert isinstance(node, Literal)
    assert node.value == value
    assert node.type == type_


def test_true_and_false_keep_their_positions() -> None:
    node = parse("x && false")
    assert isinstance(node, Binary)
    assert node.right == Literal(False, BOOL, start=5, end=10, line=1, column=6)
    assert span(node) == (0, 10, 1, 1)


def test_member_call_has_a_target_and_global_call_has_none() -> None:
    member = parse('account.name.startsWith("A")')
    assert isinstance(member, Call)
    assert member.function == "startsWith"
    assert isinstance(member.target, Select)
    assert member.args == (Literal("A", STRING, start=24, end=27, line=1, column=25),)
    plain = parse("size(account.tags)")
    assert isinstance(plain, Call) and plain.target is None and len(plain.args) == 1
    assert span(plain) == (0, 18, 1, 1)


@pytest.mark.parametrize("macro", ["exists", "all", "exists_one", "map", "filter"])
def test_macros_become_comprehensions(macro: str) -> None:
    node = parse(f"account.tags.{macro}(t, t == 'x')")
    assert isinstance(node, Comprehension)
    assert node.macro == macro
    assert node.variable == "t"
    assert isinstance(node.range, Select)
    assert isinstance(node.body, Binary)
    assert node.filter is None


def test_three_argument_map_keeps_its_filter_for_the_checker_to_reject() -> None:
    node = parse("[1, 2].map(x, x > 1, x * 10)")
    assert isinstance(node, Comprehension)
    assert isinstance(node.filter, Binary) and node.filter.op == ">"
    assert isinstance(node.body, Binary) and node.body.op == "*"


def test_has_wraps_a_selection() -> None:
    node = parse("has(account.nps)")
    assert isinstance(node, Has)
    assert node.select.field == "nps"
    assert span(node) == (0, 16, 1, 1)
    assert span(node.select) == (4, 15, 1, 5)


def test_positions_on_later_lines() -> None:
    source = "account.active &&\n  account.arr > 1.0"
    node = parse(source)
    assert isinstance(node, Binary)
    right = node.right
    assert span(right) == (20, 37, 2, 3)
    assert right.source_text(source) == "account.arr > 1.0"


def test_source_text_returns_the_exact_slice() -> None:
    source = "size( account.tags )  >  0"
    node = parse(source)
    assert isinstance(node, Binary)
    assert node.left.source_text(source) == "size( account.tags )"
    assert node.source_text(source) == source


def test_walk_visits_parents_before_children_in_source_order() -> None:
    node = parse("a + f(b, c.d)")
    names = [type(n).__name__ for n in walk(node)]
    assert names == ["Binary", "Ident", "Call", "Ident", "Select", "Ident"]
    assert tree_depth(node) == 4


@pytest.mark.parametrize(
    "source",
    [
        "a - (b - c)",
        "(a ? b : c) ? d : e",
        "a ? b : c ? d : e",
        "-(-x)",
        "!(a && b)",
        "(-5).foo()",
        "-(0) - -1",
        "- 5",
        "x.map(v, v * 2).filter(v, v > 2)",
        '{"a": [1, 2u, 3.5], 2: b"\\x00"}',
        "has(a.b) && a.b[0] in [1]",
    ],
)
def test_to_cel_round_trips(source: str) -> None:
    text = to_cel(parse(source))
    assert to_cel(parse(text)) == text


# --------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        (
            "account.arr >",
            "the expression ends too early after 'account.arr >': expected a value "
            "(a name, number, string, list, map or '(')",
            1,
            14,
        ),
        ("a b", "unexpected name 'b' after 'a': expected an operator", 1, 3),
        ("a = b", "'=' is not a CEL operator: write '==' to compare", 1, 3),
        ("a and b", "'and' is not a CEL operator: write '&&'", 1, 3),
        ("a & b", "'&' is not a CEL operator: write '&&'", 1, 3),
        ("a.", "the expression ends too early after 'a.': expected a field or method name", 1, 3),
        ("[1 2]", "unexpected number '2' after '[1': expected an operator, ']' or ','", 1, 4),
        ("f(a b)", "unexpected name 'b' after 'f(a': expected an operator, ')' or ','", 1, 5),
        ("(a b)", "unexpected name 'b' after '(a': expected an operator or ')'", 1, 4),
        (
            "{'a' 1}",
            "unexpected number '1' after \"{'a'\": expected an operator, '}', ',' or ':'",
            1,
            6,
        ),
        (
            "1 +* 2",
            "unexpected '*' after '1 +': expected a value (a name, number, string, list, map or '(')",
            1,
            4,
        ),
        ("a ? b", "the expression ends too early after 'a ? b': expected an operator or ':'", 1, 6),
        (
            "#",
            "unexpected character '#' at the start: expected a value (a name, number, string, list, map or '(')",
            1,
            1,
        ),
        ("", "the expression is empty", 1, 1),
        ("f(1,", "'(' is never closed: add ')'", 1, 2),
        ("a)", "unexpected ')': there is no '(' to close", 1, 2),
        ("(a]", "found ']' but the '(' at line 1, column 1 must be closed first with ')'", 1, 3),
        (
            'x == "abc',
            'this string is never closed (a quoted string cannot span lines; use triple quotes """ for that)',
            1,
            6,
        ),
        ("has(a)", "has() takes one field selection, e.g. 'has(account.nps)'", 1, 1),
        (
            "a.exists(x)",
            "exists() takes a variable name and a condition, e.g. 'account.tags.exists(t, ...)'; "
            "found 1 argument(s)",
            1,
            1,
        ),
        (
            "a.all(x.y, true)",
            "the first argument of all() must be a variable name; all() takes a variable name "
            "and a condition, e.g. 'account.tags.all(t, ...)'",
            1,
            7,
        ),
        (
            "x.y{a: 1}",
            "object construction 'Type{field: value}' is not supported; use a map literal such as {'key': value}",
            1,
            1,
        ),
        (
            "9223372036854775808",
            "integer 9223372036854775808 is out of range for int (64-bit, up to 9223372036854775807)",
            1,
            1,
        ),
        ("-1u", "unsigned integer -1u cannot be negative", 1, 1),
        ("1e999", "number 1e999 is out of range for double", 1, 1),
        (
            '"""a\nb"""',
            "a line break inside a triple-quoted string is dropped by cel-python; keep the string on one line and write \\n where a line break is meant",
            1,
            1,
        ),
        (
            "a &&\n  || b",
            "unexpected '||' after 'a &&': expected a value (a name, number, string, list, map or '(')",
            2,
            3,
        ),
    ],
)
def test_syntax_errors_say_what_was_found_and_expected(
    source: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(source)
    assert caught.value.message == message
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value) == message


def test_syntax_error_offsets_cover_the_offending_token() -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse("account.active and true")
    assert (caught.value.start, caught.value.end) == (15, 18)


def test_brackets_inside_strings_and_comments_do_not_count() -> None:
    node = parse('x == "(((" // ]]]\n && y')
    assert isinstance(node, Binary) and node.op == "&&"


# ---------------------------------------------------------------------- limits


def test_length_limit_is_checked_first() -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse("a" * 11, max_length=10)
    assert caught.value.message.startswith("the expression is 11 characters long; the limit is 10")


def test_depth_limit_is_checked_before_parsing() -> None:
    # The text is also a syntax error; the depth error comes first because lark never runs.
    source = "(" * 5 + "a b" + ")" * 5
    with pytest.raises(ExprSyntaxError) as caught:
        parse(source, max_depth=4)
    assert caught.value.message.startswith("brackets are nested more than 4 levels deep")
    assert (caught.value.line, caught.value.column) == (1, 5)


def test_node_limit() -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse("[" + ", ".join(["1"] * 20) + "]", max_nodes=20)
    assert caught.value.message.startswith("the expression has 21 parts; the limit is 20")


def test_operator_chain_limit_protects_later_recursive_passes() -> None:
    source = " || ".join(f"x{i}" for i in range(200))
    with pytest.raises(ExprSyntaxError) as caught:
        parse(source)
    assert "levels of operators; the limit is 128" in caught.value.message
    assert isinstance(parse(" || ".join(f"x{i}" for i in range(100))), Binary)


DEEP_INPUTS = {
    "parentheses": "(" * 10_000 + "1" + ")" * 10_000,
    "lists": "[" * 10_000 + "]" * 10_000,
    "negations": "!" * 10_000 + "x",
    "minus signs": "-" * 10_000 + "x",
    "additions": " + ".join(["1"] * 10_000),
    "selections": "a" + ".b" * 10_000,
}


@pytest.mark.parametrize("source", DEEP_INPUTS.values(), ids=DEEP_INPUTS.keys())
def test_deep_nesting_is_a_syntax_error_not_a_recursion_error(source: str) -> None:
    with pytest.raises(ExprSyntaxError):
        parse(source)
    with pytest.raises(ExprSyntaxError):
        parse(source, max_length=10**6)


@pytest.mark.parametrize("name", ["lists", "negations", "minus signs", "additions", "selections"])
def test_deep_trees_are_rejected_without_recursion_even_with_lifted_limits(name: str) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(DEEP_INPUTS[name], max_length=10**6, max_depth=10**6, max_nodes=10**6)
    assert "levels of operators; the limit is 128" in caught.value.message


def test_deep_parentheses_parse_without_recursion_when_allowed() -> None:
    node = parse("(" * 10_000 + "1" + ")" * 10_000, max_length=10**6, max_depth=10**6)
    assert node == Literal(1, INT, start=10_000, end=10_001, line=1, column=10_001)


def test_parse_leaves_cel_pythons_shared_parser_alone() -> None:
    saved = celpy.celparser.CELParser.CEL_PARSER
    celpy.celparser.CELParser.CEL_PARSER = None
    try:
        parse("account.seats > 1")
        assert celpy.celparser.CELParser.CEL_PARSER is None
    finally:
        celpy.celparser.CELParser.CEL_PARSER = saved
