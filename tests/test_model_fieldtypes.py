import pytest

from csrules.model.fieldtypes import FieldType, parse_field, parse_type


@pytest.mark.parametrize(
    ("text", "kind", "element", "optional"),
    [
        ("string", "string", None, False),
        ("int", "int", None, False),
        ("double?", "double", None, True),
        ("timestamp?", "timestamp", None, True),
        ("duration", "duration", None, False),
        ("list<string>", "list", "string", False),
        ("map<string, int>", "map", "int", False),
        ("map< string ,double >?", "map", "double", True),
    ],
)
def test_parse_type(text: str, kind: str, element: str | None, optional: bool) -> None:
    parsed = parse_type(text)
    assert parsed.kind == kind
    assert (str(parsed.element) if parsed.element else None) == element
    assert parsed.optional is optional


def test_nested_generic_types() -> None:
    parsed = parse_type("map<string, list<int>>")
    assert str(parsed) == "map<string, list<int>>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("integer", "unknown type 'integer'"),
        ("map<int, string>", "map keys must be string"),
        ("list<int?>", "list elements cannot be optional"),
        ("list<>", "unknown type"),
    ],
)
def test_parse_type_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_type(text)


def test_table_form_keeps_hints() -> None:
    parsed = parse_field({"type": "double", "min": 0, "max": 5000000.0})
    assert parsed == FieldType(kind="double", minimum=0.0, maximum=5000000.0)
    values = parse_field({"type": "list<string>", "values": ["a", "b"]})
    assert values.values == ("a", "b")
    bounded = parse_field({"type": "map<string, list<int>>", "max_items": 50})
    assert bounded.max_items == 50 and bounded.kind == "map"
    assert parse_field({"type": "list<int>", "max_items": 0}).max_items == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"min": 1}, "needs 'type'"),
        ({"type": "string", "min": 1}, "apply to int and double"),
        ({"type": "int", "min": 5, "max": 1}, "greater than 'max'"),
        ({"type": "int", "values": ["a"]}, "applies to string fields"),
        ({"type": "int", "maximum": 3}, "unknown key"),
        ({"type": "int", "max_items": 3}, "applies to list and map fields"),
        ({"type": "list<int>", "max_items": True}, "must be a whole number"),
        ({"type": "list<int>", "max_items": 2.0}, "must be a whole number"),
        ({"type": "list<int>", "max_items": -1}, "must be a whole number"),
        (3, "must be a type string"),
    ],
)
def test_table_form_errors(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_field(spec)
