"""Issue 7.1 on the demo: a commune's new cumulative figure replaces only its own old one."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tiendo.accounts.models import User
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue
from tiendo.demo.dataset import split_total
from tiendo.documents.models import ReportDefinition
from tiendo.documents.render import prepare
from tiendo.households import events
from tiendo.households.models import Household, Plot
from tiendo.programmes.models import Indicator, Programme
from tiendo.units.models import Unit
from tiendo.units.services import resolve_unit

pytestmark = pytest.mark.slow

# The seed figures of Hà Giang's resolution 05, 2021-2025, and what Kim Thạch's register adds
# in 2024 (the figures come from the household register: its gardens renovated that year).
SEED = {"NQ05_AREA": Decimal("234.9"), "NQ05_GARDENS": 1935, "NQ05_STABLE_JOBS": 2274}
NEW = {"NQ05_AREA": Decimal("12.3"), "NQ05_GARDENS": 28, "NQ05_STABLE_JOBS": 35}


def _latest_before_2024(indicator, unit) -> Decimal:
    value = (
        DataValue.objects.filter(indicator=indicator, unit=unit, period_end__lt="2024-01-01")
        .order_by("-period_end")
        .values_list("value", flat=True)
        .first()
    )
    return value or Decimal(0)


def test_a_2024_figure_of_kim_thach_replaces_only_kim_thachs_own_stock(demo_db, client):
    kim_thach = Unit.objects.get(name="Xã Kim Thạch", parent__name="Huyện Vị Xuyên")
    indicators = {i.code: i for i in Indicator.objects.filter(code__in=SEED)}
    nq05 = Programme.objects.get(code="HG-NQ05")
    household = Household.objects.filter(unit=kim_thach).first() or Household.objects.create(
        unit=kim_thach, code="KT-1", head_name="Hộ thử", head_birth_year=1980, head_sex="M"
    )
    areas = split_total(NEW["NQ05_AREA"], [1.0] * NEW["NQ05_GARDENS"], 2)
    jobs = split_total(Decimal(NEW["NQ05_STABLE_JOBS"]), [1.0] * NEW["NQ05_GARDENS"], 0)
    Plot.objects.bulk_create(
        Plot(
            household=household,
            land_unit=kim_thach,
            programme=nq05,
            area_ha=area,
            crop="Vườn tạp",
            is_garden=True,
            year_renovated=2024,
            jobs=int(job),
        )
        for area, job in zip(areas, jobs, strict=True)
    )
    events.changed({kim_thach.pk})
    # Kim Thạch's 2024 stock is its old one and the new gardens: counted once, not twice
    expected = {code: Decimal(SEED[code]) + NEW[code] for code in SEED}
    for code in SEED:
        old = _latest_before_2024(indicators[code], kim_thach)
        assert (
            DataValue.objects.get(indicator=indicators[code], unit=kim_thach, period="2024").value
            == old + NEW[code]
        )

    tuyen_quang = resolve_unit("08")
    client.force_login(User.objects.get(username="lanhdao.tuyenquang"))
    page = client.get(
        reverse("analytics:programme", args=["HG-NQ05"]), {"unit": tuyen_quang.pk, "today": "1"}
    )
    assert page.status_code == 200
    phase = {
        row.indicator.code: row.phase.cell.value
        for group in page.context["groups"]
        for row in group.rows
    }
    assert {code: phase[code] for code in SEED} == expected

    # the drill-down: its rows, over every page, add up to its total, which is the cell's
    url = reverse("analytics:drill", args=["HG-NQ05"])
    params = {"unit": tuyen_quang.pk, "today": "1", "indicator": "NQ05_AREA"}
    params["period"] = "2021-2025"
    rows, number = [], 1
    while True:
        drill = client.get(url, {**params, "page": number}).context["drill"]
        rows += [f.cell.value or 0 for _child, f, _ended in drill["rows"]]
        if not drill["page"].has_next():
            break
        number += 1
    assert drill["total"].cell.value == expected["NQ05_AREA"]
    # a commune split without shares counts in the province, in none of the new communes
    children = Aggregator([indicators["NQ05_AREA"]], "2021-2025", today=True)
    children.for_units(Unit.objects.filter(parent=tuyen_quang).current())
    split = sum(
        _latest_before_2024(indicators["NQ05_AREA"], old_unit)
        for old_unit, _reason in children.flagged
    )
    assert sum(rows) + split == expected["NQ05_AREA"]

    # the report's annex by commune: the total row and the sum of its rows
    data = prepare(ReportDefinition.objects.get(slug="hagiang-nq04-nq05-2022"))
    communes = data.annexes[1]
    area = [c.indicator.code for c in communes.columns].index("NQ05_AREA")
    assert communes.total.cells[area].actual == expected["NQ05_AREA"]
    assert sum(r.cells[area].actual or 0 for r in communes.rows) == expected["NQ05_AREA"]
    # and history-true, through the old province, the same
    cells = Aggregator(list(indicators.values()), "2021-2025").for_unit(resolve_unit("02", None))
    assert {code: cells[code].value for code in SEED} == expected
