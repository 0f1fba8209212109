from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiendo.programmes.expressions import ExpressionError, evaluate, parse, parse_rule, references

VALUES = {"A": Decimal(6), "B": Decimal(3), "C": Decimal(0)}


def resolve(code, category, offset):
    if offset:
        return VALUES.get(code, Decimal(0)) - 1
    return VALUES.get(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A + B * 2", 12),
        ("(A + B) * 2", 18),
        ("A / B", 2),
        ("A ÷ B × 2", 4),
        ("-A + 1", -5),
        ("A / C", None),
        ("A + Z", None),
        ("prev(A)", 5),
        ("max(A, B, 10)", 10),
        ("abs(B - A)", 3),
    ],
)
def test_arithmetic(text, expected):
    assert evaluate(parse(text), resolve) == expected


def test_rules_compare_and_read_categories():
    assert evaluate(parse_rule("A ≥ B"), resolve) is True
    assert (
        evaluate(parse_rule("A[x] = 6"), lambda c, cat, o: Decimal(6) if cat == "x" else None)
        is True
    )
    assert references(parse_rule("A + prev(B) <= C")) == {"A", "B", "C"}
    with pytest.raises(ExpressionError, match="so sánh"):
        parse_rule("A + B")
    with pytest.raises(ExpressionError, match="so sánh"):
        parse("A < B")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A +",
        "import os",
        "__import__('os')",
        "A < B < C",
        "1 2",
        "(A",
        "A[]",
        "A;B",
        "foo(A)",
        "A ** 2",
    ],
)
def test_anything_that_is_not_an_expression_is_rejected(bad):
    with pytest.raises(ExpressionError):
        parse_rule(bad)


names = st.sampled_from(["A", "B", "C", "NQ05_DISBURSED"])
numbers = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.one_of(names, numbers.map(str)))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    return f"({draw(expressions(depth + 1))} {op} {draw(expressions(depth + 1))})"


@given(expressions())
def test_every_generated_expression_parses_and_evaluates_without_error(text):
    result = evaluate(parse(text), resolve)
    assert result is None or isinstance(result, Decimal)


@given(expressions(), expressions())
def test_generated_rules_evaluate_to_a_truth_value_or_nothing(left, right):
    assert evaluate(parse_rule(f"{left} <= {right}"), resolve) in (True, False, None)


@given(st.text(alphabet="()[],;:'\"!@#$%^&`~{}|\\?", min_size=1))
def test_punctuation_soup_is_never_an_expression(text):
    with pytest.raises(ExpressionError):
        parse_rule(text)


@given(expressions())
def test_parsing_is_stable_under_whitespace(text):
    assert parse(text) == parse("  " + text.replace(" ", "   ") + " ")
