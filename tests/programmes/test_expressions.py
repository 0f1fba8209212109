from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiendo.core.errors import TiendoError
from tiendo.programmes.expressions import (
    Compare,
    ExpressionError,
    evaluate,
    parse,
    parse_rule,
    references,
    rule_sides,
)

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
    with pytest.raises(ExpressionError) as not_a_rule:
        parse_rule("A + B")
    assert not_a_rule.value.code == "expression.not_a_rule"
    with pytest.raises(ExpressionError) as compares:
        parse("A < B")
    assert compares.value.code == "expression.comparison_in_formula"


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
    with pytest.raises(ExpressionError) as info:
        parse_rule(bad)
    assert isinstance(info.value, TiendoError) and isinstance(info.value, ValueError)
    assert info.value.code.startswith("expression.") and info.value.code != "expression.invalid"


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


# -- categories, previous period and sum over categories ------------------------------------

categories = st.sampled_from(["TW", "DP", "TRAINING", "2021"])


@st.composite
def rich_expressions(draw, depth=0):
    """Expressions that also read categories, previous periods and sums over categories."""
    if depth > 3 or draw(st.booleans()):
        kind = draw(st.sampled_from(["name", "number", "category", "sum"]))
        if kind == "name":
            return draw(names)
        if kind == "number":
            return str(draw(numbers))
        if kind == "category":
            return f"{draw(names)}[{draw(categories)}]"
        return f"sum({draw(names)})"
    shape = draw(st.sampled_from(["binary", "prev", "neg", "call"]))
    if shape == "prev":
        return f"prev({draw(rich_expressions(depth + 1))})"
    if shape == "neg":
        return f"-({draw(rich_expressions(depth + 1))})"
    if shape == "call":
        fn = draw(st.sampled_from(["abs", "min", "max"]))
        args = [draw(rich_expressions(depth + 1))]
        if fn != "abs":
            args.append(draw(rich_expressions(depth + 1)))
        return f"{fn}({', '.join(args)})"
    op = draw(st.sampled_from(["+", "-", "*", "/", "×", "÷"]))
    return f"({draw(rich_expressions(depth + 1))} {op} {draw(rich_expressions(depth + 1))})"


def table_resolver(table):
    """Values by (code, category, offset); anything absent is missing."""

    def resolve(code, category, offset):
        return table.get((code, category, offset))

    return resolve


value_tables = st.dictionaries(
    st.tuples(
        st.sampled_from(["A", "B", "C", "NQ05_DISBURSED"]),
        st.sampled_from(["", "TW", "DP", "TRAINING", "2021"]),
        st.integers(min_value=-4, max_value=0),
    ),
    numbers,
    max_size=40,
)


@given(rich_expressions(), value_tables)
def test_rich_expressions_parse_and_evaluate_to_a_number_or_nothing(text, table):
    result = evaluate(parse(text), table_resolver(table))
    assert result is None or isinstance(result, Decimal)


@given(rich_expressions(), st.sampled_from(["=", "≠", "<", "≤", ">", "≥", "<=", ">=", "!="]))
def test_rule_sides_give_back_the_two_expressions(text, op):
    rule = f"{text} {op} 0"
    left, normal_op, right = rule_sides(rule)
    assert parse(left) == parse(text) and right == "0"
    assert parse_rule(rule) == Compare(normal_op, parse(text), parse("0"))


@given(names, categories, numbers, numbers)
def test_a_category_reads_only_its_own_value(code, category, own, other):
    table = {(code, category, 0): own, (code, "OTHER", 0): other}
    assert evaluate(parse(f"{code}[{category}]"), table_resolver(table)) == own


@given(rich_expressions(), value_tables)
def test_prev_reads_the_same_expression_one_period_earlier(text, table):
    shifted = {(code, cat, offset + 1): v for (code, cat, offset), v in table.items()}
    assert evaluate(parse(f"prev({text})"), table_resolver(table)) == evaluate(
        parse(text), table_resolver(shifted)
    )


@given(names, value_tables)
def test_sum_over_categories_is_the_aggregated_total(code, table):
    resolve = table_resolver(table)
    assert evaluate(parse(f"sum({code})"), resolve) == evaluate(parse(code), resolve)
    assert references(parse(f"sum({code}) + prev({code}[TW])")) == {code}


@pytest.mark.parametrize(
    "bad", ["sum()", "sum(A, B)", "sum(A[TW])", "sum(A + B)", "sum(1)", "sum A", "prev()"]
)
def test_sum_takes_exactly_one_indicator_code(bad):
    with pytest.raises(ExpressionError):
        parse(bad)


@given(rich_expressions())
def test_rich_expressions_alone_are_not_rules(text):
    with pytest.raises(ExpressionError) as info:
        parse_rule(text)
    assert info.value.code == "expression.not_a_rule"


@given(rich_expressions(), st.text(alphabet=";:'\"!@#$%^&`~{}|\\?", min_size=1, max_size=3))
def test_trailing_garbage_makes_a_rule_invalid(text, garbage):
    with pytest.raises(ExpressionError):
        parse_rule(f"{text} <= 1 {garbage}")


@given(st.text(max_size=40))
def test_any_text_either_parses_or_is_refused_with_a_vietnamese_message(text):
    try:
        tree = parse_rule(text)
    except ExpressionError as exc:
        assert str(exc)  # never an IndexError, TypeError or a silent None
    else:
        assert isinstance(tree, Compare)


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ("A ≈ B * 2 ± 0.05", True),
        ("A ≈ 6.04 ± 0.05", True),
        ("A ≈ 6.06 ± 0.05", False),
        ("A ~= 5.96 +/- 0.05", True),
        ("A ≈ B ± B", True),  # a difference equal to the tolerance still holds
        ("A ≈ Z ± 0.05", None),
        ("A ≈ B ± Z", None),
    ],
)
def test_an_approximate_comparison_holds_within_its_tolerance(rule, holds):
    assert evaluate(parse_rule(rule), resolve) is holds


def test_an_approximate_comparison_needs_a_tolerance_and_only_it_takes_one():
    with pytest.raises(ExpressionError) as missing:
        parse_rule("A ≈ B")
    assert missing.value.code == "expression.tolerance_missing"
    with pytest.raises(ExpressionError) as misplaced:
        parse_rule("A <= B ± 1")
    assert misplaced.value.code == "expression.tolerance_not_approximate"
    with pytest.raises(ExpressionError):
        parse("A ± 1")
    assert references(parse_rule("A ≈ B ± C / 100")) == {"A", "B", "C"}
    assert parse_rule("A ≈ B ± 1") == parse_rule("A ~= B +/- 1")


def test_todate_asks_the_resolver_for_the_programme_period_so_far():
    asked = []

    def resolve(code, category, offset, to_date=False):
        asked.append((code, offset, to_date))
        return Decimal(10) if to_date else Decimal(4)

    assert evaluate(parse_rule("todate(A) / B >= 2.5"), resolve) is True
    assert evaluate(parse_rule("prev(todate(A)) + A = 14"), resolve) is True
    assert ("A", 0, True) in asked and ("B", 0, False) in asked and ("A", -1, True) in asked


def test_todate_belongs_to_rules_not_to_formulas():
    with pytest.raises(ExpressionError) as info:
        parse("todate(A) / B")
    assert info.value.code == "expression.rule_only_function"
    assert references(parse_rule("todate(A) <= B")) == {"A", "B"}


def test_a_rule_with_a_condition_applies_only_where_the_condition_holds():
    rule = parse_rule("A != B * 2 if A >= 100")
    assert references(rule) == {"A", "B"}
    assert evaluate(rule, resolve) is None  # A = 6: the rule does not apply
    assert evaluate(parse_rule("A != B * 2 if A >= 5"), resolve) is False
    assert evaluate(parse_rule("A = 6 if Z >= 5"), resolve) is None
    for bad in ("A if A > 1", "A > 1 if A", "A > 1 if B > 1 if C > 1"):
        with pytest.raises(ExpressionError):
            parse_rule(bad)
