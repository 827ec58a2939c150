"""`{{ CEL }}` templates: splitting into text and holes, syntax errors, checking the holes."""

from __future__ import annotations

import pytest

from csrules.expr import (
    DOUBLE,
    STRING,
    RecordType,
    TemplateHole,
    TemplateSyntaxError,
    TemplateText,
    TypeEnv,
    Variable,
    check_template,
    split_template,
    standard_functions,
)

ENV = TypeEnv(
    {
        "account": Variable(RecordType("account", {"name": STRING, "arr": DOUBLE})),
        "case": Variable(RecordType("case", {"owner": STRING, "id": STRING})),
    },
    standard_functions(),
)


def test_text_and_holes_in_order_with_offsets() -> None:
    text = "{{ account.name }}: owner {{case.owner}}."
    parts = split_template(text)
    assert parts == [
        TemplateHole("account.name", 3, 15, 1, 4),
        TemplateText(": owner ", 18, 26),
        TemplateHole("case.owner", 28, 38, 1, 29),
        TemplateText(".", 40, 41),
    ]
    for part in parts:
        if isinstance(part, TemplateHole):
            assert text[part.start : part.end] == part.source


def test_plain_text_is_one_part() -> None:
    assert split_template("no holes { here }") == [TemplateText("no holes { here }", 0, 17)]
    assert split_template("") == []


def test_hole_positions_on_later_lines() -> None:
    text = "Hello\n  {{\n   account.name }}"
    hole = split_template(text)[1]
    assert isinstance(hole, TemplateHole)
    assert (hole.source, hole.line, hole.column) == ("account.name", 3, 4)


def test_braces_and_strings_inside_a_hole() -> None:
    parts = split_template('{{ {"a": 1}["a"] }} and {{ "}}" }}')
    holes = [p.source for p in parts if isinstance(p, TemplateHole)]
    assert holes == ['{"a": 1}["a"]', '"}}"']


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("Owner {{ case.owner", "'{{' is never closed: add '}}' after the expression", 1, 7),
        (
            "Owner }} here",
            "'}}' without a matching '{{' (to show '}}' as text, write '{{ \"}}\" }}')",
            1,
            7,
        ),
        (
            "a\n{{   }}",
            "empty '{{ }}': put a CEL expression inside, e.g. '{{ account.name }}'",
            2,
            1,
        ),
        ('{{ "abc }}', "this string inside '{{ }}' is never closed", 1, 4),
    ],
)
def test_template_syntax_errors(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        split_template(text)
    assert caught.value.message == message
    assert (caught.value.line, caught.value.column) == (line, column)


def test_check_template_places_issues_in_the_template() -> None:
    text = "Account {{ account.name }}\nARR {{ account.ar * 2.0 }}"
    issues = check_template(text, ENV)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.message == "unknown field 'account.ar' (did you mean 'arr'?)"
    assert (issue.line, issue.column) == (2, 8)
    assert text[issue.start : issue.end] == "account.ar"


def test_check_template_reports_every_hole() -> None:
    text = "{{ account.arr > 1 }} {{ owner }}"
    issues = check_template(text, ENV)
    assert [text[i.start : i.end] for i in issues] == ["account.arr > 1", "owner"]
    assert issues[1].message.startswith("unknown variable 'owner'")


def test_check_template_places_syntax_errors_in_a_hole() -> None:
    text = "x {{ account.name + }}"
    (issue,) = check_template(text, ENV)
    assert issue.message.startswith("the expression ends too early after 'account.name +'")
    assert (issue.line, issue.column) == (1, 20)


def test_check_template_turns_template_syntax_errors_into_one_issue() -> None:
    (issue,) = check_template("{{ account.name", ENV)
    assert issue.message == "'{{' is never closed: add '}}' after the expression"
    assert (issue.line, issue.column, issue.start, issue.end) == (1, 1, 0, 2)


def test_clean_template_has_no_issues() -> None:
    assert check_template("{{ account.name }} owned by {{ case.owner }} ({{ case.id }})", ENV) == ()
