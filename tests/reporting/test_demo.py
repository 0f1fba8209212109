"""The demo's reporting cycles: letter 228/VPĐP-NTM and the Hà Giang Resolutions 04/05."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tiendo.data.services import DataEntryError, Entry, save_value
from tiendo.demo.reporting import load_demo_reporting, split_sections
from tiendo.programmes.models import Indicator
from tiendo.reporting.completeness import completeness
from tiendo.reporting.models import ReportRequest, Submission
from tiendo.reporting.queries import collect_narrative
from tiendo.units.services import resolve_unit

SEEDS = Path("/work/shared/seeds")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("demo_db")]


def _statuses(req):
    return {row.unit.code: row.status for row in completeness(req)}


def test_letter_228_has_the_alliance_approved_and_others_in_other_states():
    req = ReportRequest.objects.get(number_symbol="228/VPĐP-NTM")
    assert req.issuer.code == "45.VPDP" and req.issued_on == date(2020, 11, 9)
    assert _statuses(req) == {
        "45.LMHTX": "approved",
        "45.SNNPTNT": "returned",
        "45.SKHDT": "draft",
        "45.STC": "missing",
    }
    alliance = Submission.objects.get(request=req, unit__code="45.LMHTX")
    titles = [t for t, _ in alliance.sections]
    assert titles[1] == "Kết quả thực hiện các tiêu chí"
    assert alliance.sections[1][1] == "Không được phân công."
    assert "197,3 triệu, đạt 49,3%" in alliance.sections[3][1]
    seed = unicodedata.normalize("NFC", (SEEDS / "003_aee81e5d47eae6a5.txt").read_text())
    for title, text in alliance.sections:
        assert text and text in seed, title
    assert alliance.on_time is True
    # the Alliance's approved figures are locked
    allocated = Indicator.objects.get(code="NTM_RECURRENT_ALLOCATED")
    with pytest.raises(DataEntryError, match="228/VPĐP-NTM"):
        save_value(Entry(allocated, alliance.unit, "2020", Decimal(999), "TRAINING"))


def test_hagiang_districts_are_approved_and_the_province_consolidates_seed_000():
    req = ReportRequest.objects.get(number_symbol="25/BCĐ-NQ")
    statuses = _statuses(req)
    assert set(statuses.values()) == {"approved"} and len(statuses) >= 8
    late = [r for r in completeness(req) if r.on_time is False]
    assert late, "the last districts answered after the deadline"
    province = Submission.objects.get(request=req, unit=resolve_unit("02"))
    seed_text = unicodedata.normalize("NFC", (SEEDS / "000_623d56476236615d.txt").read_text())
    assert [t for t, _ in province.sections] == [t for t, _ in split_sections(seed_text)]
    assert "4.757 hộ" in province.sections[1][1]
    narrative = collect_narrative(req, resolve_unit("02"))
    by_name = {u.name: dict(s) for u, s in narrative}
    assert "8,5 ha" in by_name["Huyện Xín Mần"]["Kết quả thực hiện"]
    assert by_name["Huyện Vị Xuyên"]["Kết quả thực hiện"]


def test_loading_again_changes_nothing():
    before = Submission.objects.count()
    assert load_demo_reporting() == []
    assert Submission.objects.count() == before


def test_the_demo_pages_show_letter_228(client):
    from django.urls import reverse

    from tiendo.accounts.models import User

    req = ReportRequest.objects.get(number_symbol="228/VPĐP-NTM")
    client.force_login(User.objects.get(username="vpdp.quangtri"))
    body = client.get(reverse("reporting:request", args=[req.pk])).content.decode()
    assert 'data-unit="45.LMHTX" data-status="approved"' in body
    assert "Phụ lục kết quả các tiêu chí chưa gửi kèm" in body
    alliance = Submission.objects.get(request=req, unit__code="45.LMHTX")
    client.force_login(User.objects.get(username="lmhtx.quangtri"))
    body = client.get(reverse("reporting:submission", args=[alliance.pk])).content.decode()
    assert "Không được phân công." in body and 'id="locked"' in body
    assert "197,3" in body  # the as-of-31/10/2020 disbursement, read-only
