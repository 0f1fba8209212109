"""A small register for the tests of register indicators: two programmes, three households."""

from __future__ import annotations

from datetime import date

from tests import factories
from tiendo.households import events
from tiendo.households.models import Enrolment, Household, Loan, Plot
from tiendo.programmes.metadata import load_package
from tiendo.programmes.models import Programme

D = factories.D

PACKAGE = """
package: so-ho-thu
programme:
  code: T1
  name: Chương trình thử
  period: 2021-2025
  owner: "02"
indicators:
  - {code: T_DISBURSED, name: Vốn giải ngân, measure_unit: triệu đồng}
  - {code: T_LOANS, name: Số khoản vay, measure_unit: khoản, value_type: integer}
  - {code: T_BORROWERS, name: Hộ vay lũy kế, measure_unit: hộ, value_type: integer, aggregation: last}
  - {code: T_IMPLEMENTING, name: Hộ tham gia hai chương trình, measure_unit: hộ, value_type: integer, aggregation: last}
  - {code: T_BENEFITING, name: Hộ thụ hưởng, measure_unit: hộ, value_type: integer, aggregation: last}
  - {code: T_GARDENS, name: Vườn cải tạo, measure_unit: vườn, value_type: integer, aggregation: last}
  - {code: T_GARDEN_AREA, name: Diện tích vườn, measure_unit: ha, aggregation: last, decimals: 1}
  - {code: T_TYPED, name: Số nhập tay, measure_unit: lớp}
register_indicators:
  - {indicator: T_DISBURSED, source: loan, measure: sum, field: amount, filter: {programme: T1}, period: in_period}
  - {indicator: T_LOANS, source: loan, measure: count, filter: {programme: T1}, period: in_period}
  - {indicator: T_BORROWERS, source: loan, measure: distinct_households, filter: {programme: T1}, period: to_period_end}
  - {indicator: T_IMPLEMENTING, source: enrolment, measure: distinct_households, filter: {programme: [T1, T2]}, period: to_period_end}
  - {indicator: T_BENEFITING, source: enrolment, measure: distinct_households, filter: {programme: [T1, T2], benefiting: true}, period: to_period_end}
  - {indicator: T_GARDENS, source: plot, measure: count, filter: {is_garden: true}, period: to_period_end}
  - {indicator: T_GARDEN_AREA, source: plot, measure: sum, field: area_ha, filter: {is_garden: true}, period: to_period_end}
"""


def make_world(tmp_path):
    tree = factories.mini_tree()
    t2 = factories.programme("T2", "Chương trình thứ hai")
    path = tmp_path / "so-ho.yaml"
    path.write_text(PACKAGE, encoding="utf-8")
    load_package(path)
    return tree, Programme.objects.get(code="T1"), t2


def household(unit, code, **kw):
    return Household.objects.create(
        unit=unit, code=code, head_name=f"Hộ {code}", head_birth_year=1980, head_sex="M", **kw
    )


def fill(tree, t1, t2):
    """Two communes: c1 with households from 2021, c3 whose first household comes in 2022."""
    a = household(tree.c1, "A")
    b = household(tree.c1, "B")
    c = household(tree.c3, "C")
    Enrolment.objects.create(
        household=a, programme=t1, enrolled_on=date(2021, 3, 1), benefiting=True
    )
    Enrolment.objects.create(household=a, programme=t2, enrolled_on=date(2022, 3, 1))
    Enrolment.objects.create(household=b, programme=t2, enrolled_on=date(2021, 5, 1))
    Enrolment.objects.create(
        household=c, programme=t2, enrolled_on=date(2022, 6, 1), benefiting=True
    )
    Loan.objects.create(
        household=a, programme=t1, amount=D(50), disbursed_on=date(2021, 4, 1), term_months=36
    )
    Loan.objects.create(
        household=a, programme=t1, amount=D(30), disbursed_on=date(2022, 4, 1), term_months=36
    )
    Loan.objects.create(
        household=c, programme=t1, amount=D(20), disbursed_on=date(2022, 7, 1), term_months=36
    )
    Loan.objects.create(  # another programme's: not counted
        household=b, programme=t2, amount=D(99), disbursed_on=date(2022, 7, 1), term_months=36
    )
    for h, area, year, garden in (
        (a, "0.25", 2021, True),
        (b, "0.4", 2022, True),
        (c, "1", 2022, False),
    ):
        Plot.objects.create(
            household=h,
            land_unit=h.unit,
            area_ha=D(area),
            crop="Vườn",
            is_garden=garden,
            year_renovated=year,
        )
    events.changed({tree.c1.pk, tree.c3.pk})
    return a, b, c
