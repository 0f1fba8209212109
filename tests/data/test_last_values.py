"""Cumulative ("last") indicators: each reporting unit's latest value, summed up the tree.

The mini tree: old communes 00001-00004 (until 30/06/2025) under Hà Giang; 00001 → N1,
00002 and 00003 → N2, 00004 split between N2 and N3; new communes N1-N3 under Tuyên Quang.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import D, indicator, programme
from tiendo.accounts.models import Role
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue
from tiendo.data.pivot import pivot
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Aggregation, CategoryOption, Disaggregation
from tiendo.units.models import UnitChange


def put(ind, unit, period, value, category=""):
    save_value(Entry(ind, unit, period, D(value), category))


@pytest.fixture
def prog(db):
    return programme()


@pytest.fixture
def stock(prog):
    return indicator(prog, "STOCK", aggregation=Aggregation.LAST, measure_unit="ha", decimals=1)


def cell(ind, unit, period, *, today=False):
    return Aggregator([ind], period, today=today).for_unit(unit)[ind.code]


def test_each_unit_contributes_its_own_latest_value_carried_forward(tree, stock):
    put(stock, tree.c1, "2021", 10)
    put(stock, tree.c2, "2023", 20)
    put(stock, tree.c3, "2021", 5)
    put(stock, tree.c3, "2024", 7)

    for period in ("2025", "2021-2025"):
        total = cell(stock, tree.ha_giang, period)
        assert (total.value, total.as_of, total.count) == (D(37), "2024", 3)
    assert cell(stock, tree.ha_giang, "2022").value == D(15)  # 2021's values carried forward
    assert cell(stock, tree.ha_giang, "2023").value == D(35)
    assert cell(stock, tree.ha_giang, "2021").value == D(15)
    assert cell(stock, tree.vi_xuyen, "2025").value == D(30)
    assert cell(stock, tree.bac_quang, "2025").value == D(7)
    assert cell(stock, tree.nation, "2025").value == D(37)
    assert cell(stock, tree.ha_giang, "2020").value is None


def test_units_still_valid_report_at_different_quarters(tree, stock):
    put(stock, tree.n1, "2025Q3", 4)
    put(stock, tree.n2, "2025Q3", 6)
    put(stock, tree.n2, "2025Q4", 9)
    put(stock, tree.other_commune, "2025Q4", 100)

    year = cell(stock, tree.tuyen_quang, "2025")
    assert (year.value, year.as_of, year.count) == (D(13), "2025Q4", 2)
    assert cell(stock, tree.tuyen_quang, "2025Q3").value == D(10)
    assert cell(stock, tree.tuyen_quang, "2026").value == D(13)  # carried into the next year
    assert cell(stock, tree.nation, "2025").value == D(113)


def test_on_a_tie_of_the_last_day_the_narrowest_period_wins(tree, stock):
    put(stock, tree.n1, "2025S2", 50)
    put(stock, tree.n1, "2025Q4", 40)
    put(stock, tree.n1, "2025", 30)
    total = cell(stock, tree.tuyen_quang, "2025")
    assert (total.value, total.as_of, total.count) == (D(40), "2025Q4", 1)


def test_the_latest_value_is_taken_per_category(tree, prog):
    content = Disaggregation.objects.create(code="LOAI", name="Loại vườn")
    CategoryOption.objects.create(disaggregation=content, code="mixed", name="Vườn tạp")
    CategoryOption.objects.create(disaggregation=content, code="new", name="Vườn mới")
    gardens = indicator(prog, "GARDENS", aggregation=Aggregation.LAST, disaggregation=content)
    put(gardens, tree.c1, "2021", 3, "mixed")
    put(gardens, tree.c1, "2022", 4, "new")
    put(gardens, tree.c1, "2023", 5, "mixed")
    put(gardens, tree.c2, "2021", 10, "mixed")
    put(gardens, tree.c3, "2024", 1, "new")

    total = cell(gardens, tree.ha_giang, "2021-2025")
    assert total.categories == {"mixed": D(15), "new": D(5)}
    assert (total.value, total.as_of, total.count) == (D(20), "2024", 4)
    assert cell(gardens, tree.ha_giang, "2022").categories == {"mixed": D(13), "new": D(4)}


def test_todays_view_carries_a_merged_communes_value_through_its_successor(tree, stock):
    put(stock, tree.c1, "2022", 10)
    put(stock, tree.c2, "2021", 5)
    put(stock, tree.c3, "2024", 7)

    assert cell(stock, tree.n1, "2025", today=True).value == D(10)
    assert cell(stock, tree.n2, "2025", today=True).value == D(12)
    total = cell(stock, tree.tuyen_quang, "2021-2025", today=True)
    assert (total.value, total.as_of, total.count) == (D(22), "2024", 3)
    # history-true: the old tree keeps its own figure
    assert cell(stock, tree.ha_giang, "2021-2025").value == D(22)
    assert cell(stock, tree.tuyen_quang, "2021-2025").value is None


def test_a_successor_reporting_after_the_merge_supersedes_its_predecessors(tree, stock):
    put(stock, tree.c1, "2022", 10)
    put(stock, tree.c2, "2021", 5)
    put(stock, tree.c3, "2024", 7)
    put(stock, tree.n2, "2025Q4", 15)  # N2 reports the whole of Xã Hai and Xã Ba again

    assert cell(stock, tree.n2, "2025", today=True).value == D(15)
    assert cell(stock, tree.tuyen_quang, "2025", today=True).value == D(25)  # 10 + 15, not 37
    # before N2's report the old communes still count
    assert cell(stock, tree.n2, "2025Q2", today=True).value == D(12)
    # the nation holds both trees: the old communes are superseded there too
    assert cell(stock, tree.nation, "2025").value == D(25)
    # the old province, history-true, is not: N2 is not part of it
    assert cell(stock, tree.ha_giang, "2025").value == D(22)
    # the values listed as a figure's sources follow the same rule
    ids = Aggregator([stock], "2025", today=True).last_value_ids(tree.tuyen_quang)[stock.pk]
    listed = DataValue.objects.filter(pk__in=ids).values_list("unit__code", "value")
    assert sorted(listed) == [("00001", D(10)), ("10002", D(15))]


def test_a_split_commune_is_superseded_share_by_share(tree, stock):
    UnitChange.objects.filter(predecessor=tree.c4, successor=tree.n2).update(share=D("0.25"))
    UnitChange.objects.filter(predecessor=tree.c4, successor=tree.n3).update(share=D("0.75"))
    put(stock, tree.c4, "2023", 100)
    assert cell(stock, tree.n2, "2025", today=True).value == D(25)
    assert cell(stock, tree.n3, "2025", today=True).value == D(75)

    put(stock, tree.n2, "2025Q4", 30)  # N2 reports its part again; N3 has not yet
    assert cell(stock, tree.n2, "2025", today=True).value == D(30)
    assert cell(stock, tree.n3, "2025", today=True).value == D(75)
    assert cell(stock, tree.tuyen_quang, "2025", today=True).value == D(105)


def test_the_pivot_of_each_unit_agrees_with_its_children(tree, prog, stock):
    put(stock, tree.c1, "2021", 10)
    put(stock, tree.c2, "2023", 20)
    put(stock, tree.c3, "2024", 7)

    def pivoted(unit):
        rows, _aggregator = pivot(unit, "2021-2025", programme=prog)
        return {row.indicator.code: row.cell.value for row in rows}

    assert pivoted(tree.ha_giang) == {"STOCK": D(37)}
    assert pivoted(tree.vi_xuyen) == {"STOCK": D(30)}
    assert pivoted(tree.bac_quang) == {"STOCK": D(7)}


@pytest.mark.parametrize("today", [False, True])
def test_the_drill_down_lists_the_values_that_make_its_total(client, tree, stock, today):
    put(stock, tree.c1, "2021", "10.5")
    put(stock, tree.c2, "2023", 20)
    put(stock, tree.c3, "2021", 5)
    put(stock, tree.c3, "2024", 7)
    put(stock, tree.n3, "2025Q4", 1)
    client.force_login(factories.user("lanhdao", tree.nation, Role.LEADER))
    unit = tree.tuyen_quang if today else tree.ha_giang
    params = {"unit": unit.pk, "indicator": "STOCK", "period": "2021-2025"}
    if today:
        params["today"] = "1"
    response = client.get(reverse("analytics:drill", args=["P1"]), params)
    assert response.status_code == 200
    html = response.content.decode()
    if today:
        # N1 ← Xã Một 10,5; N2 ← Xã Hai 20 + Xã Ba 7; N3 its own 1 (Xã Bốn reported nothing)
        for text in (">10,5<", ">27<", ">1<", ">38,5<"):
            assert text in html
    else:
        for text in (">30,5<", ">7<", ">37,5<"):
            assert text in html
    total = cell(stock, unit, "2021-2025", today=today).value
    assert total == (D("38.5") if today else D("37.5"))


def test_other_aggregations_count_units_reporting_at_different_dates(tree, prog):
    paid = indicator(prog, "PAID")
    mean = indicator(prog, "MEAN", aggregation=Aggregation.AVERAGE)
    gain = indicator(prog, "GAIN", aggregation=Aggregation.RANGE)
    own = indicator(prog, "OWN", aggregation=Aggregation.NONE)
    for ind in (paid, mean, gain, own):
        put(ind, tree.c1, "2021", 10)
        put(ind, tree.c2, "2023Q2", 20)
        put(ind, tree.c3, "2021", 30)
        put(ind, tree.c3, "2024", 60)
    put(own, tree.ha_giang, "2022", 1)
    put(own, tree.ha_giang, "2024", 2)

    cells = Aggregator([paid, mean, gain, own], "2021-2025").for_unit(tree.ha_giang)
    assert (cells["PAID"].value, cells["PAID"].count) == (D(120), 4)
    assert cells["MEAN"].value == D(30)
    assert (cells["GAIN"].low, cells["GAIN"].high, cells["GAIN"].count) == (10, 60, 4)
    assert (cells["OWN"].value, cells["OWN"].count) == (D(3), 2)
    only_2023 = Aggregator([paid, mean, gain, own], "2023").for_unit(tree.ha_giang)
    assert only_2023["PAID"].value == D(20) and only_2023["MEAN"].value == D(20)
    assert (only_2023["GAIN"].low, only_2023["GAIN"].high) == (20, 20)
    assert only_2023["OWN"].value is None  # nothing carried forward but for "last"
    today = Aggregator([paid, mean, gain], "2021-2025", today=True).for_unit(tree.tuyen_quang)
    assert today["PAID"].value == D(120) and today["MEAN"].value == D(30)
    assert (today["GAIN"].low, today["GAIN"].high) == (10, 60)


def test_a_formula_over_last_operands_is_computed_from_the_summed_latest_values(tree, prog):
    area = indicator(prog, "AREA", aggregation=Aggregation.LAST)
    gardens = indicator(prog, "GARDENS", aggregation=Aggregation.LAST)
    per = indicator(prog, "PER", formula="AREA / GARDENS", decimals=2)
    put(area, tree.c1, "2021", 10)
    put(gardens, tree.c1, "2021", 5)
    put(area, tree.c2, "2024", 30)
    put(gardens, tree.c2, "2024", 5)
    assert Aggregator([per], "2021-2025").for_unit(tree.ha_giang)["PER"].value == D(4)


def test_a_deleted_latest_value_lets_the_earlier_one_count_again(tree, stock):
    put(stock, tree.c1, "2021", 10)
    put(stock, tree.c1, "2024", 12)
    assert cell(stock, tree.ha_giang, "2025").value == D(12)
    save_value(Entry(stock, tree.c1, "2024", None))
    total = cell(stock, tree.ha_giang, "2025")
    assert (total.value, total.as_of) == (D(10), "2021")
    assert isinstance(total.value, Decimal)


def test_a_reports_sources_of_a_last_figure_are_the_values_it_adds_up(tree, stock):
    from tiendo.documents.services import collect_sources

    put(stock, tree.c1, "2021", 10)
    put(stock, tree.c2, "2023", 20)
    put(stock, tree.c3, "2021", 5)
    put(stock, tree.c3, "2024", 7)
    figure = {"key": "STOCK@hg", "indicator": "STOCK", "unit_id": tree.ha_giang.pk}
    figure |= {"period": "2021-2025", "as_of": "2024"}
    sources = collect_sources([figure])
    listed = sorted(
        (sources["values"][str(pk)]["unit"], sources["values"][str(pk)]["period"])
        for pk in sources["by_figure"]["STOCK@hg"]
    )
    assert listed == [("00001", "2021"), ("00002", "2023"), ("00003", "2024")]
    ids = Aggregator([stock], "2021-2025").last_value_ids(tree.ha_giang)
    assert sorted(ids[stock.pk]) == sorted(sources["by_figure"]["STOCK@hg"])


def test_last_in_period_carries_nothing_from_before_the_period(tree, prog):
    spent = indicator(prog, "SPENT", aggregation=Aggregation.LAST_IN_PERIOD)
    put(spent, tree.c1, "2019-12-31", 165)  # last year's budget
    put(spent, tree.c2, "2020-06-30", 50)
    put(spent, tree.c2, "2020-10-31", 90)
    year = cell(spent, tree.ha_giang, "2020")
    assert (year.value, year.as_of, year.count) == (D(90), "2020-10-31", 1)
    assert cell(spent, tree.ha_giang, "2016-2020").value == D(255)
    assert cell(spent, tree.ha_giang, "2021").value is None
    ids = Aggregator([spent], "2020").last_value_ids(tree.ha_giang)[spent.pk]
    assert list(DataValue.objects.filter(pk__in=ids).values_list("period", flat=True)) == [
        "2020-10-31"
    ]
