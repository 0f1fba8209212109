"""A small reporting cycle on the miniature tree: the district of Vị Xuyên asks its
communes (and itself consolidates) for a yearly form and three narrative sections."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import pytest
from django.utils import timezone

from tests import factories
from tiendo.accounts.models import Role, User
from tiendo.programmes.models import CategoryOption, Disaggregation, Indicator, Programme
from tiendo.programmes.periods import Period
from tiendo.reporting import services
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    NarrativeSection,
    ReportRequest,
    RequestRecipient,
)

# Playwright's sync API runs an event loop in the test thread; Django must still let the
# test set data up (browser tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PERIOD = "2024"


@dataclass
class Cycle:
    tree: factories.MiniTree
    programme: Programme
    households: Indicator
    capital: Indicator
    form: Form
    request: ReportRequest
    sections: list[NarrativeSection]
    coordinator: User
    district_officer: User
    commune_officer: User
    commune_leader: User
    other_commune_officer: User


def open_days_after(period: Period) -> int:
    """Keep the 2024 entry window open today, whatever today is (the tree ends in 2025)."""
    return (timezone.localdate() - period.end).days + 30


@pytest.fixture
def cycle(tree) -> Cycle:
    prog = factories.programme("NQ05", "Nghị quyết 05")
    households = factories.indicator(
        prog, "HOUSEHOLDS", name="Số hộ tham gia", value_type="integer"
    )
    source = Disaggregation.objects.create(code="SOURCE", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="LOAN", name="Vốn vay", order=0)
    CategoryOption.objects.create(disaggregation=source, code="OWN", name="Vốn tự có", order=1)
    capital = factories.indicator(
        prog,
        "CAPITAL",
        name="Vốn thực hiện",
        measure_unit="triệu đồng",
        disaggregation=source,
        decimals=1,
    )
    form = Form.objects.create(
        code="NQ05_XA",
        name="Biểu kết quả Nghị quyết 05",
        programme=prog,
        unit_kinds=["commune", "rural_district"],
        period_type="year",
        opens_days_before_end=400,
        closes_days_after_end=open_days_after(Period.parse(PERIOD)),
    )
    FormIndicator.objects.create(form=form, indicator=households, order=0)
    FormIndicator.objects.create(form=form, indicator=capital, order=1)
    req = ReportRequest.objects.create(
        number_symbol="15/UBND-NN",
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title="Báo cáo kết quả thực hiện Nghị quyết 05 năm 2024",
        period=PERIOD,
        deadline=date(2024, 12, 10),
    )
    req.forms.add(form)
    sections = [
        NarrativeSection.objects.create(request=req, order=i, title=t)
        for i, t in enumerate(["Kết quả đạt được", "Hạn chế, nguyên nhân", "Kiến nghị, đề xuất"])
    ]
    for u in (tree.c1, tree.c2, tree.vi_xuyen):
        RequestRecipient.objects.create(request=req, unit=u)
    coordinator = factories.user("bcd", tree.ha_giang, Role.COORDINATOR)
    district_officer = factories.user("huyen", tree.vi_xuyen, Role.AGENCY_OFFICER)
    commune_officer = factories.user("xa1", tree.c1, Role.COMMUNE_OFFICER)
    commune_leader = factories.user("lanhdao.xa1", tree.c1, Role.LEADER)
    other = factories.user("xa3", tree.c3, Role.COMMUNE_OFFICER)
    services.send_request(req, coordinator)
    return Cycle(
        tree,
        prog,
        households,
        capital,
        form,
        req,
        sections,
        coordinator,
        district_officer,
        commune_officer,
        commune_leader,
        other,
    )
