from decimal import Decimal

import pytest

from tests.factories import D, indicator, programme
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue, DataValueChange, Rollup
from tiendo.data.services import DataEntryError, Entry, parse_number, rebuild_rollups, save_value
from tiendo.programmes.models import Aggregation, Target


def put(ind, unit, period, value, category=""):
    return save_value(Entry(ind, unit, period, None if value is None else D(value), category))


@pytest.fixture
def prog(db):
    return programme()


def test_sums_roll_up_through_the_tree_valid_at_the_time(tree, prog):
    disbursed = indicator(prog, "DISBURSED", measure_unit="triệu đồng")
    put(disbursed, tree.c1, "2021", 100)
    put(disbursed, tree.c2, "2021", 50.5)
    put(disbursed, tree.c3, "2022", 7)
    put(disbursed, tree.agency, "2022", 3)

    def value(unit, period):
        return Aggregator([disbursed], period).for_unit(unit)["DISBURSED"].value

    assert value(tree.vi_xuyen, "2021") == D("150.5")
    assert value(tree.ha_giang, "2021") == D("150.5")
    assert value(tree.ha_giang, "2022") == D(10)
    assert value(tree.ha_giang, "2021-2025") == D("160.5")
    assert value(tree.nation, "2021-2025") == D("160.5")
    assert value(tree.bac_quang, "2021") is None


def test_every_change_keeps_who_when_old_and_new_and_moves_the_rollup(tree, prog):
    households = indicator(prog, "HH")
    put(households, tree.c1, "2021Q1", 10)
    put(households, tree.c1, "2021Q1", 12)
    put(households, tree.c1, "2021Q1", None)
    changes = list(
        DataValueChange.objects.order_by("pk").values_list("action", "old_value", "new_value")
    )
    assert changes == [("create", None, D(10)), ("update", D(10), D(12)), ("delete", D(12), None)]
    assert not DataValue.objects.exists()
    assert not Rollup.objects.exists()


def test_a_saved_value_is_in_the_aggregate_at_once_and_rebuild_agrees(tree, prog):
    hh = indicator(prog, "HH")
    put(hh, tree.c1, "2021", 4)
    put(hh, tree.c3, "2021", 5)
    before = sorted(Rollup.objects.values_list("unit_id", "total", "count"))
    rebuild_rollups()
    after = sorted(Rollup.objects.values_list("unit_id", "total", "count"))
    assert before == after
    assert Aggregator([hh], "2021").for_unit(tree.ha_giang)["HH"].value == 9


def test_formula_indicators_are_computed_after_aggregation(tree, prog):
    plan = indicator(prog, "PLAN", measure_unit="triệu đồng")
    paid = indicator(prog, "PAID", measure_unit="triệu đồng")
    rate = indicator(prog, "RATE", measure_unit="%", formula="PAID / PLAN * 100", decimals=2)
    put(plan, tree.c1, "2021", 100)
    put(paid, tree.c1, "2021", 100)  # 100%
    put(plan, tree.c3, "2021", 300)
    put(paid, tree.c3, "2021", 0)  # 0%
    cell = Aggregator([rate], "2021").for_unit(tree.ha_giang)["RATE"]
    assert cell.value == 25  # 100 / 400, not the average of 100% and 0%


def test_last_takes_the_latest_period_and_range_the_extremes(tree, prog):
    stock = indicator(prog, "STOCK", aggregation=Aggregation.LAST)
    gain = indicator(prog, "GAIN", aggregation=Aggregation.RANGE, measure_unit="triệu đồng")
    put(stock, tree.c1, "2021", 10)
    put(stock, tree.c1, "2022", 15)
    put(stock, tree.c3, "2022", 5)
    put(gain, tree.c1, "2022", 10)
    put(gain, tree.c3, "2022", 15)
    put(gain, tree.c2, "2022", 12)
    cells = Aggregator([stock, gain], "2021-2025").for_unit(tree.ha_giang)
    assert cells["STOCK"].value == 20
    assert cells["STOCK"].as_of == "2022"
    assert (cells["GAIN"].low, cells["GAIN"].high) == (10, 15)


def test_categories_and_targets(tree, prog):
    from tiendo.programmes.models import CategoryOption, Disaggregation

    content = Disaggregation.objects.create(code="CONTENT", name="Nội dung chi")
    CategoryOption.objects.create(disaggregation=content, code="training", name="Đào tạo")
    CategoryOption.objects.create(disaggregation=content, code="promotion", name="Xúc tiến")
    paid = indicator(prog, "PAID", disaggregation=content)
    put(paid, tree.c1, "2020-10-31", 197.3, "training")
    put(paid, tree.c1, "2020-10-31", 0, "promotion")
    Target.objects.create(indicator=paid, unit=tree.c1, period="2020", value=400)
    cell = Aggregator([paid], "2020").for_unit(tree.ha_giang)
    assert cell["PAID"].categories == {"training": D("197.3"), "promotion": 0}
    assert cell["PAID"].target == 400
    assert cell["PAID"].achieved == D("49.325")
    with pytest.raises(DataEntryError) as caught:
        put(paid, tree.c1, "2020", 1, "bogus")
    assert caught.value.code == "data.unknown_category"


def test_todays_view_puts_old_data_under_the_new_units_and_flags_unallocated_splits(tree, prog):
    hh = indicator(prog, "HH")
    put(hh, tree.c1, "2022", 1)
    put(hh, tree.c2, "2022", 10)
    put(hh, tree.c3, "2022", 100)
    put(hh, tree.c4, "2022", 1000)  # split between N2 and N3, no shares
    put(hh, tree.agency, "2022", 5)

    def today(unit):
        agg = Aggregator([hh], "2022", today=True)
        return agg.for_unit(unit)["HH"].value, [u.code for u, _ in agg.flagged]

    assert today(tree.tuyen_quang) == (D(1116), [])  # every successor inside: nothing lost
    assert today(tree.n1) == (D(1), [])
    assert today(tree.n2) == (D(110), ["00004"])  # the split commune is left out, and said so
    assert today(tree.other_province) == (None, [])

    from tiendo.units.models import UnitChange

    UnitChange.objects.filter(predecessor=tree.c4, successor=tree.n2).update(share=Decimal("0.25"))
    UnitChange.objects.filter(predecessor=tree.c4, successor=tree.n3).update(share=Decimal("0.75"))
    assert today(tree.n2) == (D(360), [])
    assert today(tree.n3) == (D(750), [])


def test_a_units_own_target_wins_over_the_sum_of_the_targets_below(tree, prog):
    hh = indicator(prog, "HH")
    Target.objects.create(indicator=hh, unit=tree.c1, period="2021", value=40)
    Target.objects.create(indicator=hh, unit=tree.c3, period="2021", value=60)
    Target.objects.create(indicator=hh, unit=tree.c1, period="2022", value=40)
    Target.objects.create(indicator=hh, unit=tree.vi_xuyen, period="2022", value=45)
    units = [tree.ha_giang, tree.vi_xuyen, tree.c1, tree.c2]
    cells = Aggregator([hh], "2021").for_units(units)
    assert cells[tree.ha_giang.pk]["HH"].target == 100  # none of its own: the sum below
    assert cells[tree.vi_xuyen.pk]["HH"].target == 40
    assert cells[tree.c1.pk]["HH"].target == 40
    assert cells[tree.c2.pk]["HH"].target is None
    cells = Aggregator([hh], "2022").for_units(units)
    assert cells[tree.vi_xuyen.pk]["HH"].target == 45  # its own, not 40 from below
    assert cells[tree.c1.pk]["HH"].target == 40
    assert Aggregator([hh], "2023").for_unit(tree.ha_giang)["HH"].target is None


def test_aggregators_sharing_mappings_map_a_unit_to_today_once(tree, prog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hh = indicator(prog, "HH")
    put(hh, tree.c3, "2022", 100)
    put(hh, tree.c3, "2023", 7)
    mappings = {}
    first = Aggregator([hh], "2022", today=True, mappings=mappings)
    assert first.for_unit(tree.tuyen_quang)["HH"].value == 100
    with CaptureQueriesContext(connection) as fresh:
        Aggregator([hh], "2023", today=True).for_unit(tree.tuyen_quang)
    with CaptureQueriesContext(connection) as shared:
        second = Aggregator([hh], "2023", today=True, mappings=mappings)
        assert second.for_unit(tree.tuyen_quang)["HH"].value == 7
    assert list(mappings) == [tree.tuyen_quang.pk]
    assert len(shared) < len(fresh)
    assert not any("units_unitchange" in q["sql"] for q in shared.captured_queries)


def test_todays_view_of_several_units_in_one_batch_agrees_with_each_alone(tree, prog):
    hh = indicator(prog, "HH")
    put(hh, tree.c1, "2022", 1)
    put(hh, tree.c3, "2022", 100)
    put(hh, tree.c4, "2022", 1000)  # split between N2 and N3, no shares
    units = [tree.tuyen_quang, tree.n1, tree.n2, tree.n3, tree.other_province]
    batch = Aggregator([hh], "2022", today=True)
    cells = batch.for_units(units)
    for unit in units:
        alone = Aggregator([hh], "2022", today=True).for_unit(unit)
        assert cells[unit.pk]["HH"].value == alone["HH"].value
    assert [cells[u.pk]["HH"].value for u in units] == [D(1101), D(1), D(100), None, None]
    assert [u.code for u, _reason in batch.flagged] == ["00004"]  # once, though N2 and N3


def test_bad_values_are_refused_with_a_vietnamese_message(tree, prog):
    hh = indicator(prog, "HH", value_type="integer")
    refusals = []
    for unit, period, value in [
        (tree.c1, "2021", 1.5),
        (tree.c1, "2021Q5", 1),
        (tree.n1, "2021", 1),
    ]:
        with pytest.raises(DataEntryError) as caught:
            put(hh, unit, period, value)
        refusals.append((caught.value.code, str(caught.value)))
    assert [code for code, _message in refusals] == [
        "value.not_integer",
        "period.invalid",
        "data.unit_not_valid",
    ]
    assert "số nguyên" in refusals[0][1] and "không hợp lệ" in refusals[1][1]
    assert not DataValue.objects.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("66.992", 66992),
        ("234,9", D("234.9")),
        ("1.234,5", D("1234.5")),
        ("234.9", D("234.9")),
        ("", None),
        (" 4.757 ", 4757),
    ],
)
def test_numbers_are_read_as_officials_write_them(raw, expected):
    assert parse_number(raw) == expected


def test_a_word_is_not_a_number():
    with pytest.raises(DataEntryError) as caught:
        parse_number("mười")
    assert caught.value.code == "number.not_a_number"
