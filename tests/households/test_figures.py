"""Register indicators: the package section, the figures computed from the records, fresh
on every register write, refused from anyone else."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from tests import factories
from tests.households.world import PACKAGE, fill, household
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import DataEntryError, Entry, save_value
from tiendo.households import events, figures
from tiendo.households import sources as sources_module
from tiendo.households.models import Enrolment, Loan, RegisterIndicator
from tiendo.households.sources import Source, register_source
from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Indicator

D = factories.D


def stored(code, unit) -> dict[str, Decimal]:
    return {
        p: v
        for p, v in DataValue.objects.filter(indicator__code=code, unit=unit).values_list(
            "period", "value"
        )
    }


def aggregate(code, unit, period) -> Decimal | None:
    cell = Aggregator([Indicator.objects.get(code=code)], period).for_unit(unit).get(code)
    return cell.value if cell is not None else None


# -- the section ---------------------------------------------------------------------------


def problems(tmp_path, items: str, indicators: str = "") -> list[str]:
    text = PACKAGE.split("register_indicators:")[0].replace(
        "indicators:\n", "indicators:\n" + indicators, 1
    )
    path = tmp_path / "sai.yaml"
    path.write_text(text + "register_indicators:\n" + items, encoding="utf-8")
    with pytest.raises(PackageError) as caught:
        load_package(path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "{indicator: T_NOPE, source: loan, measure: count}",
            "register_indicators[0].indicator: chỉ tiêu “T_NOPE” không có trong mục indicators",
        ),
        (
            "{indicator: T_LOANS, source: ledger, measure: count}",
            "register_indicators[0].source: không có sổ “ledger”",
        ),
        (
            "{indicator: T_LOANS, source: loan, measure: count, filter: {colour: red}}",
            "register_indicators[0].filter.colour: sổ “loan” không có trường “colour”",
        ),
        (
            "{indicator: T_LOANS, source: loan, measure: count, filter: {programme: T1, benefiting: true}}",
            "register_indicators[0].filter.benefiting: sổ “loan” không có trường “benefiting”",
        ),
        (
            "{indicator: T_GARDENS, source: plot, measure: count, filter: {is_garden: yes please}}",
            "register_indicators[0].filter.is_garden: “yes please” phải là true hoặc false.",
        ),
        (
            "{indicator: T_DISBURSED, source: loan, measure: sum}",
            "register_indicators[0].field: thiếu trường để cộng",
        ),
        (
            "{indicator: T_DISBURSED, source: loan, measure: sum, field: programme}",
            "register_indicators[0].field: trường “programme” của sổ “loan” không phải là số",
        ),
        (
            "{indicator: T_LOANS, source: loan, measure: count, field: amount}",
            "register_indicators[0].field: chỉ cần trường khi cộng",
        ),
        (
            "{indicator: T_LOANS, source: loan, measure: count, period: to_period_end}",
            "register_indicators[0].period: chỉ tiêu “T_LOANS” tổng hợp theo “sum”, nhưng period: "
            "to_period_end cần aggregation: last",
        ),
        (
            "{indicator: T_BORROWERS, source: loan, measure: distinct_households, period: in_period}",
            "register_indicators[0].period: chỉ tiêu “T_BORROWERS” tổng hợp theo “last”",
        ),
        (
            "{indicator: T_BORROWERS, source: loan, measure: count, period: valid_on_period_end}",
            "register_indicators[0].period: bản ghi của sổ “loan” không có thời hạn hiệu lực",
        ),
        (
            "{indicator: T_LOANS, source: loan, measure: median}",
            "register_indicators[0].measure: “median” không hợp lệ",
        ),
    ],
)
def test_the_section_names_what_is_wrong_by_its_key_path(world, tmp_path, item, expected):
    found = problems(tmp_path, f"  - {item}\n")
    assert any(expected in p for p in found), found


def test_a_formula_indicator_or_a_binding_twice_is_refused(world, tmp_path):
    found = problems(
        tmp_path,
        "  - {indicator: T_RATE, source: loan, measure: count}\n"
        "  - {indicator: T_LOANS, source: loan, measure: count}\n"
        "  - {indicator: T_LOANS, source: loan, measure: count}\n",
        "  - {code: T_RATE, name: Tỷ lệ, measure_unit: '%', formula: T_LOANS / T_LOANS}\n",
    )
    assert any(
        "register_indicators[0].indicator: chỉ tiêu “T_RATE” được tính theo công thức" in p
        for p in found
    ), found
    assert any(
        "register_indicators[2].indicator: chỉ tiêu “T_LOANS” được gắn với sổ hai lần" in p
        for p in found
    )


def test_loading_the_same_package_twice_changes_nothing_and_a_dropped_binding_goes(world, tmp_path):
    path = tmp_path / "so-ho.yaml"
    report = load_package(path)
    assert report.of("added") == [] and report.of("changed") == []
    lines = [ln for ln in PACKAGE.splitlines() if "T_GARDEN_AREA, source" not in ln]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_package(path)
    assert not RegisterIndicator.objects.filter(indicator__code="T_GARDEN_AREA").exists()
    assert RegisterIndicator.objects.filter(programme__code="T1").count() == 6


# -- the figures ---------------------------------------------------------------------------


def test_each_measure_and_period_mode(world):
    tree, t1, t2 = world
    fill(tree, t1, t2)
    # in_period: the sum and the count of the year's loans, per commune
    assert stored("T_DISBURSED", tree.c1) == {"2021": D(50), "2022": D(30)}
    assert stored("T_DISBURSED", tree.c3) == {"2022": D(20)}
    assert stored("T_LOANS", tree.c1) == {"2021": 1, "2022": 1}
    # to_period_end: a stock, written the years records are dated in; a household once
    assert stored("T_BORROWERS", tree.c1) == {"2021": 1, "2022": 1}
    assert stored("T_BORROWERS", tree.c3) == {"2022": 1}
    assert stored("T_GARDENS", tree.c1) == {"2021": 1, "2022": 2}
    assert stored("T_GARDEN_AREA", tree.c1) == {"2021": D("0.25"), "2022": D("0.65")}
    assert stored("T_GARDENS", tree.c3) == {}  # its plot is not a garden
    # up the tree and over the phase, as the aggregation does for entered figures
    assert aggregate("T_DISBURSED", tree.ha_giang, "2021-2025") == D(100)
    assert aggregate("T_DISBURSED", tree.ha_giang, "2021") == D(50)
    assert aggregate("T_BORROWERS", tree.ha_giang, "2021") == 1
    assert aggregate("T_BORROWERS", tree.ha_giang, "2021-2025") == 2  # the stock at the end
    assert aggregate("T_GARDEN_AREA", tree.vi_xuyen, "2023") == D("0.65")  # carried forward


def test_distinct_households_across_two_programmes_is_not_the_sum(world):
    tree, t1, t2 = world
    fill(tree, t1, t2)
    # household A takes part in both programmes: one household, in 2021 already
    assert stored("T_IMPLEMENTING", tree.c1) == {"2021": 2, "2022": 2}
    per_programme = (
        Enrolment.objects.filter(household__unit=tree.c1)
        .values_list("programme", "household")
        .distinct()
        .count()
    )
    assert per_programme == 3
    assert stored("T_BENEFITING", tree.c1) == {"2021": 1}
    assert aggregate("T_IMPLEMENTING", tree.ha_giang, "2021-2025") == 3


def test_figures_are_fresh_after_a_save_and_a_removal(world):
    tree, t1, t2 = world
    a, b, c = fill(tree, t1, t2)
    Loan.objects.create(
        household=b, programme=t1, amount=D(5), disbursed_on=date(2022, 9, 1), term_months=12
    )
    events.changed({tree.c1.pk})
    assert stored("T_DISBURSED", tree.c1) == {"2021": D(50), "2022": D(35)}
    assert stored("T_BORROWERS", tree.c1) == {"2021": 1, "2022": 2}
    # a removed household no longer counts: its commune's figures go down, or go
    c.removed_at = timezone.now()
    c.save()
    events.changed({tree.c3.pk})
    assert stored("T_DISBURSED", tree.c3) == {}
    assert stored("T_BORROWERS", tree.c3) == {}
    assert aggregate("T_DISBURSED", tree.ha_giang, "2021-2025") == D(85)
    gone = DataValueChange.objects.filter(indicator__code="T_DISBURSED", unit=tree.c3)
    assert gone.filter(source=figures.SOURCE).count() == 2  # created, then deleted


def test_history_true_each_household_stays_in_the_commune_it_was_registered_in(world):
    tree, t1, t2 = world
    old = household(tree.c1, "OLD")
    new = household(tree.n1, "NEW")  # the merged commune, from 2025-07-01
    for h, day in ((old, date(2021, 2, 1)), (new, date(2025, 8, 1))):
        Loan.objects.create(
            household=h, programme=t1, amount=D(10), disbursed_on=day, term_months=12
        )
    events.changed({tree.c1.pk, tree.n1.pk})
    assert stored("T_BORROWERS", tree.c1) == {"2021": 1}
    assert stored("T_BORROWERS", tree.n1) == {"2025": 1}
    assert aggregate("T_DISBURSED", tree.ha_giang, "2021-2025") == D(10)  # the old tree
    assert aggregate("T_DISBURSED", tree.tuyen_quang, "2025") == D(10)


def test_valid_on_period_end_counts_what_is_in_force_each_year(world, tmp_path):
    tree, t1, t2 = world
    source = Source(  # a loan "in force" for the year it is disbursed and the next
        key="test_loan_in_force",
        label="khoản vay còn hạn",
        queryset=lambda: Loan.objects.all(),
        unit="household__unit",
        date="disbursed_on",
        household="household",
        active=Q(household__removed_at__isnull=True),
        valid_on=lambda qs, day: qs.filter(disbursed_on__year__gte=day.year - 1),
        fields={"programme": "programme__code"},
    )
    register_source(source)
    try:
        path = tmp_path / "hieu-luc.yaml"
        path.write_text(
            PACKAGE.replace(
                "  - {code: T_TYPED",
                "  - {code: T_IN_FORCE, name: Khoản vay còn hạn, "
                "measure_unit: khoản, value_type: integer, aggregation: last}\n"
                "  - {code: T_TYPED",
            )
            + "  - {indicator: T_IN_FORCE, source: test_loan_in_force, measure: count, "
            "period: valid_on_period_end}\n",
            encoding="utf-8",
        )
        load_package(path)
        h = household(tree.c1, "H")
        Loan.objects.create(
            household=h, programme=t1, amount=D(1), disbursed_on=date(2021, 1, 5), term_months=12
        )
        events.changed({tree.c1.pk})
        values = stored("T_IN_FORCE", tree.c1)
        # in force at the end of 2021 and 2022, no longer after: the stock falls to 0
        assert values["2021"] == 1 and values["2022"] == 1 and values["2023"] == 0
        assert "2026" not in values  # the old commune ceased in 2025
    finally:
        sources_module._SOURCES.pop(source.key)


def test_a_register_figure_is_refused_by_hand_and_a_typed_one_is_not(world):
    tree, t1, t2 = world
    officer = factories.user("xa.mot", tree.c1)
    with pytest.raises(DataEntryError) as caught:
        save_value(
            Entry(Indicator.objects.get(code="T_LOANS"), tree.c1, "2021", D(3)), user=officer
        )
    assert "được tính từ sổ khoản vay, không nhập trực tiếp" in str(caught.value)
    save_value(Entry(Indicator.objects.get(code="T_TYPED"), tree.c1, "2021", D(3)), user=officer)
    assert stored("T_TYPED", tree.c1) == {"2021": 3}


def test_refigure_recomputes_and_clears_what_no_record_gives(world):
    tree, t1, t2 = world
    fill(tree, t1, t2)
    # a stale figure (written before the binding existed) on a commune without records
    from tiendo.data.services import computed_write

    with computed_write():
        save_value(Entry(Indicator.objects.get(code="T_LOANS"), tree.c2, "2021", D(7)))
    DataValue.objects.filter(indicator__code="T_LOANS", unit=tree.c1, period="2021").update(
        value=D(9)
    )
    out = io.StringIO()
    call_command("households", "refigure", "--unit", "028", stdout=out)
    assert "Đã ghi 2 số liệu tính từ sổ." in out.getvalue()
    assert stored("T_LOANS", tree.c2) == {}
    assert stored("T_LOANS", tree.c1) == {"2021": 1, "2022": 1}
    call_command("households", "refigure", stdout=out)
    assert "Đã ghi 0 số liệu tính từ sổ." in out.getvalue()


def test_one_commune_changed_costs_the_same_queries_however_many_records(world):
    """GROUP BY per bound indicator, never a query per record: 40 more loans, same cost."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree, t1, t2 = world
    fill(tree, t1, t2)

    def more_loans(start):
        rows = [household(tree.c1, f"M{start + i}") for i in range(40)]
        Loan.objects.bulk_create(
            Loan(
                household=h,
                programme=t1,
                amount=D(1),
                disbursed_on=date(2023, 1, 1),
                term_months=12,
            )
            for h in rows
        )
        with CaptureQueriesContext(connection) as queries:
            events.changed({tree.c1.pk})
        return len(queries)

    more_loans(0)
    assert more_loans(40) == more_loans(80) < 60
    assert stored("T_LOANS", tree.c1)["2023"] == 120
