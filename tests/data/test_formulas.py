"""Formulas over periods (``prev``), formulas that cannot be evaluated, and counting units
by a condition (``count_units``)."""

import pytest

from tests.factories import D, indicator, programme
from tiendo.data.aggregation import Aggregator
from tiendo.data.pivot import pivot
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Aggregation


def put(ind, unit, period, value, category=""):
    return save_value(Entry(ind, unit, period, D(value), category))


@pytest.fixture
def prog(db):
    return programme()


def test_prev_reads_the_previous_period_and_a_chain_ends_at_the_first_period_without_data(
    tree, prog
):
    new = indicator(prog, "NEW")
    growth = indicator(prog, "GROWTH", formula="NEW - prev(NEW)")
    # a chain: each year's figure reads the one before, back to the first year without data
    chain = indicator(prog, "CHAIN", formula="prev(CHAIN) + NEW")
    put(new, tree.c1, "2021", 10)
    put(new, tree.c1, "2022", 25)
    cells = Aggregator([growth, chain], "2022").for_unit(tree.ha_giang)
    assert cells["GROWTH"].value == 15
    assert cells["GROWTH"].error == ""
    # 2020 has no data: the chain ends there with no value, without walking back to 1989
    assert cells["CHAIN"].value is None
    assert cells["CHAIN"].error == ""
    assert Aggregator([growth], "2021").for_unit(tree.ha_giang)["GROWTH"].value is None


def test_prev_of_a_stock_over_quarters(tree, prog):
    stock = indicator(prog, "STOCK", aggregation=Aggregation.LAST)
    added = indicator(prog, "ADDED", formula="STOCK - prev(STOCK)")
    put(stock, tree.c1, "2021Q4", 10)
    put(stock, tree.c3, "2022Q1", 4)
    put(stock, tree.c1, "2022Q2", 12)
    cells = Aggregator([added], "2022Q2").for_unit(tree.ha_giang)
    assert cells["ADDED"].value == 2  # 16 - 14: the stock carried over, not a gap
    assert Aggregator([added], "2022").for_unit(tree.ha_giang)["ADDED"].value == 6


def test_a_pivot_with_prev_formulas_runs_and_broken_formulas_say_why_in_their_cell(tree, prog):
    new = indicator(prog, "NEW")
    indicator(prog, "GROWTH", formula="NEW - prev(NEW)")
    indicator(prog, "LOOP_A", formula="LOOP_B + 1")
    indicator(prog, "LOOP_B", formula="LOOP_A * 2")
    indicator(prog, "BROKEN", formula="NEW + (")  # stored before formulas were checked
    indicator(prog, "UNKNOWN", formula="NEW + NOT_AN_INDICATOR")
    put(new, tree.c1, "2022", 25)
    for programme_filter in (prog, None):
        rows, _agg = pivot(tree.ha_giang, "2022", programme=programme_filter, with_empty=True)
        by_code = {r.indicator.code: r for r in rows}
        assert by_code["GROWTH"].cell.value is None  # 2021 without data: no value
        assert by_code["LOOP_A"].cell.error_code == "formula.cycle"
        assert "LOOP_A" in by_code["LOOP_A"].value_text
        assert by_code["BROKEN"].cell.error_code.startswith("expression.")
        assert by_code["BROKEN"].value_text == by_code["BROKEN"].cell.error
        assert by_code["UNKNOWN"].cell.error_code == "formula.unknown_indicator"
        assert "NOT_AN_INDICATOR" in by_code["UNKNOWN"].value_text
        assert by_code["NEW"].cell.error == ""


@pytest.fixture
def criteria(prog):
    met = indicator(prog, "CRIT_MET", aggregation=Aggregation.LAST, measure_unit="tiêu chí")
    all_met = indicator(prog, "ALL_MET", measure_unit="xã", formula="count_units(CRIT_MET >= 19)")
    most = indicator(
        prog, "MOST_MET", measure_unit="xã", formula="count_units(CRIT_MET >= 15, CRIT_MET <= 18)"
    )
    return met, all_met, most


def test_count_units_counts_the_communes_meeting_a_condition_as_of_each_period(tree, criteria):
    met, all_met, most = criteria
    put(met, tree.c1, "2023", 19)
    put(met, tree.c2, "2024Q2", 17)
    put(met, tree.c3, "2024Q1", 19)
    put(met, tree.c4, "2023", 12)

    def counts(unit, period, today=False):
        cells = Aggregator([all_met, most], period, today=today).for_unit(unit)
        return cells["ALL_MET"].value, cells["MOST_MET"].value

    assert counts(tree.ha_giang, "2022") == (None, None)  # nobody had reported yet
    assert counts(tree.ha_giang, "2023") == (1, 0)
    assert counts(tree.ha_giang, "2024") == (2, 1)  # c1 carried forward from 2023
    assert counts(tree.ha_giang, "2024Q1") == (2, 0)
    assert counts(tree.vi_xuyen, "2024") == (1, 1)
    assert counts(tree.bac_quang, "2024") == (1, 0)
    assert counts(tree.c2, "2024") == (0, 1)

    # 2025: c2 and c3 merged into n2, which meets every criterion from its first report;
    # c1 became n1, which has not reported: c1's own figure still counts
    put(met, tree.n2, "2025Q4", 19)
    assert counts(tree.tuyen_quang, "2025Q4") == (1, 0)  # history-true: the new tree only
    assert counts(tree.tuyen_quang, "2025Q4", today=True) == (2, 0)  # n2 and c1; not c2, c3
    assert counts(tree.n2, "2025Q4", today=True) == (1, 0)
    assert counts(tree.n2, "2025Q3", today=True) == (1, 1)  # before n2 reported: c3, c2
    assert counts(tree.n1, "2025Q4", today=True) == (1, 0)


def test_count_units_belongs_to_formulas_and_takes_comparisons(prog):
    from tiendo.programmes import expressions

    for text, code in (
        ("count_units(CRIT_MET)", "expression.count_condition"),
        ("count_units(count_units(A > 1) > 2)", "expression.count_condition"),
    ):
        with pytest.raises(expressions.ExpressionError) as caught:
            expressions.parse(text)
        assert caught.value.code == code
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.parse_rule("count_units(A > 1) >= 0")
    assert caught.value.code == "expression.formula_only_function"
    tree = expressions.parse("count_units(A >= 1, B < 2) * 2")
    assert expressions.references(tree) == {"A", "B"}


def test_a_target_of_an_overlapping_period_is_used_the_most_specific_one_first(tree, prog):
    from tiendo.data.pivot import target_label
    from tiendo.programmes.models import Target

    area = indicator(prog, "AREA", aggregation=Aggregation.LAST, measure_unit="ha")
    put(area, tree.c1, "2019-12-31", 50)
    Target.objects.create(indicator=area, unit=tree.ha_giang, period="2020-06-30", value=200)
    Target.objects.create(indicator=area, unit=tree.ha_giang, period="2022", value=400)
    Target.objects.create(indicator=area, unit=tree.c1, period="2022", value=100)

    def target(unit, period):
        cell = Aggregator([area], period).for_unit(unit)["AREA"]
        return cell.target, cell.target_period, cell

    # a mid-2020 target beside the figures of the 2016-2020 phase (as of end 2019)
    value, period, cell = target(tree.ha_giang, "2016-2020")
    assert (value, period) == (200, "2020-06-30")
    assert cell.achieved == 25
    assert target_label(cell) == "kế hoạch 200 (đến ngày 30/06/2020)"
    assert target(tree.ha_giang, "2019")[:2] == (None, "")  # no target overlaps 2019
    # a year's target beside a quarter of it; the province's own wins over the sum below
    assert target(tree.ha_giang, "2022Q3")[:2] == (400, "2022")
    assert target(tree.vi_xuyen, "2022Q3")[:2] == (100, "2022")  # the sum of those below
    # the same period beats a wider one, a containing one beats one inside the shown
    Target.objects.create(indicator=area, unit=tree.ha_giang, period="2022Q3", value=300)
    Target.objects.create(indicator=area, unit=tree.ha_giang, period="2021-2025", value=900)
    assert target(tree.ha_giang, "2022Q3")[:2] == (300, "2022Q3")
    assert target(tree.ha_giang, "2022S2")[:2] == (400, "2022")
    assert target(tree.ha_giang, "2021-2025")[:2] == (900, "2021-2025")
    assert target(tree.ha_giang, "2022-2023")[:2] == (900, "2021-2025")  # contains it
    # of the targets inside the shown period, the one sharing the most days
    Target.objects.filter(period="2021-2025").delete()
    assert target(tree.ha_giang, "2022-2023")[:2] == (400, "2022")


def test_a_chain_reading_back_too_far_says_so_in_its_cell(tree, prog):
    from tiendo.data.aggregation import MAX_PERIODS_BACK

    new = indicator(prog, "NEW")
    chain = indicator(prog, "CHAIN", formula="prev(CHAIN) + NEW")
    months = [f"{2016 + m // 12}{m % 12 + 1:02d}" for m in range(MAX_PERIODS_BACK + 12)]
    for month in months:
        put(new, tree.c1, month, 1)
    cell = Aggregator([chain], months[-1]).for_unit(tree.ha_giang)["CHAIN"]
    assert cell.value is None and cell.error_code == "formula.too_far_back"
    # within reach, the chain adds up every month back to the first one with data
    cell = Aggregator([chain], months[MAX_PERIODS_BACK - 2]).for_unit(tree.ha_giang)["CHAIN"]
    assert cell.error == "" and cell.value is None  # the month before the first: no value


def test_a_documents_figure_of_a_broken_formula_is_its_message(tree, prog):
    from tiendo.documents.figures import FigureSet
    from tiendo.programmes.periods import Period

    new = indicator(prog, "NEW")
    loop = indicator(prog, "LOOP", formula="LOOP + NEW")
    growth = indicator(prog, "GROWTH", formula="NEW - prev(NEW)")
    put(new, tree.c1, "2022", 5)
    figures = FigureSet([new, loop, growth], tree.ha_giang, Period.parse("2022"))
    assert str(figures.LOOP) == "Công thức vòng quanh, không tính được: LOOP → LOOP."
    assert not figures.GROWTH and str(figures.GROWTH) == ""  # 2021 without data: no value
    assert str(figures.NEW) == "5"


def test_count_units_may_test_a_computed_figure_of_each_unit(tree, prog):
    plan = indicator(prog, "PLAN")
    paid = indicator(prog, "PAID")
    indicator(prog, "RATE", measure_unit="%", formula="PAID / PLAN * 100")
    done = indicator(prog, "DONE", measure_unit="xã", formula="count_units(RATE >= 100)")
    for unit, planned, disbursed in ((tree.c1, 10, 10), (tree.c2, 10, 5), (tree.c3, 4, 6)):
        put(plan, unit, "2022", planned)
        put(paid, unit, "2022", disbursed)
    cells = Aggregator([done], "2022").for_units([tree.ha_giang, tree.vi_xuyen])
    assert cells[tree.ha_giang.pk]["DONE"].value == 2  # c1 and c3, not the province's 84%
    assert cells[tree.vi_xuyen.pk]["DONE"].value == 1
