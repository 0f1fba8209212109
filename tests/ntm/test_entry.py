"""The assessment entry page and the recognition page, with the personas of the mini
tree: the commune officer of Xã Một, the coordination office of Hà Giang, its leader, a
district officer, and the coordinator of another province."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.accounts.models import Role
from tiendo.ntm.models import Assessment, Recognition
from tiendo.ntm.services import AssessmentInput, save_assessments

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    return {
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "district": factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(cs, unit, year=2024, name="ntm:entry"):
    return reverse(name, args=[cs.code, unit.pk, year])


def _post(**extra):
    data = {"version": "0", "applies_to": "MN", "level": "", "c1": "", "c2": "", "c3": ""}
    data.update(extra)
    return data


def test_the_page_shows_each_criterion_with_the_threshold_of_the_region(tree, people):
    cs = small_set()
    save_assessments(
        [
            AssessmentInput(
                unit=tree.c1,
                criteria_set=cs,
                year=2024,
                applies_to="MN",
                values={"1.1": Decimal("1234.5")},
            )
        ]
    )
    page = _as(people["officer"]).get(_url(cs, tree.c1)).content.decode()
    assert "1. Giao thông" in page and "3. Quốc phòng và An ninh" in page
    assert "≥ 70 %" in page  # the mountain region's threshold
    assert "cần xác minh" in page  # 2.1's threshold is to be confirmed
    assert 'value="1.234,5"' in page  # the value in Vietnamese format
    assert "Lưu đánh giá" in page


def test_the_commune_officer_saves_the_assessment_with_vietnamese_numbers(tree, people):
    cs = small_set()
    client = _as(people["officer"])
    response = client.post(
        _url(cs, tree.c1), _post(**{"v1.1": "75,5", "v2.1": "50", "c3": "1", "e3": "QĐ 5"})
    )
    assert response.status_code == 302
    a = Assessment.objects.get(unit=tree.c1)
    values = {r.indicator.code: r.value for r in a.indicator_results.select_related("indicator")}
    assert values == {"1.1": Decimal("75.5"), "2.1": Decimal("50")}
    assert a.results.get(criterion__number=2).met is True  # derived from 50 ≥ 46
    assert a.results.get(criterion__number=3).evidence == "QĐ 5"
    page = client.get(_url(cs, tree.c1)).content.decode()
    assert "Đã lưu đánh giá" in page and "phiên bản 1" in page
    # the form sent back as shown changes nothing (criterion 2 follows its value)
    response = client.post(
        _url(cs, tree.c1),
        _post(version="1", **{"v1.1": "75,5", "v2.1": "50", "c2": "1", "c3": "1", "e3": "QĐ 5"}),
    )
    assert response.status_code == 302
    assert Assessment.objects.get(unit=tree.c1).version == 1


def test_a_form_opened_before_another_save_is_refused_with_a_clear_message(tree, people):
    cs = small_set()
    save_assessments(
        [AssessmentInput(unit=tree.c1, criteria_set=cs, year=2024, applies_to="MN")],
        user=people["coordinator"],
    )
    response = _as(people["officer"]).post(_url(cs, tree.c1), _post(version="0", c3="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "bcd.hagiang" in page and "Tải lại" in page
    assert Assessment.objects.get(unit=tree.c1).results.get(criterion__number=3).met is None


def test_bad_numbers_and_a_level_without_every_criterion_are_refused(tree, people):
    cs = small_set()
    client = _as(people["officer"])
    page = client.post(_url(cs, tree.c1), _post(**{"v1.1": "1,234.5"})).content.decode()
    assert "không rõ dấu nào ngăn hàng nghìn" in page
    page = client.post(
        _url(cs, tree.c1), _post(c1="1", c2="1", c3="0", level="standard")
    ).content.decode()
    assert "chưa đạt đủ tiêu chí: 3" in page
    assert not Assessment.objects.exists()


def test_who_may_write_an_assessment(tree, people):
    cs = small_set()
    # the leader reads, never writes; the district officer neither
    page = _as(people["leader"]).get(_url(cs, tree.c1)).content.decode()
    assert "chỉ có quyền xem" in page and "Lưu đánh giá" not in page
    assert _as(people["leader"]).post(_url(cs, tree.c1), _post(c3="1")).status_code == 403
    assert _as(people["district"]).post(_url(cs, tree.c1), _post(c3="1")).status_code == 403
    # the commune officer writes their own commune only
    assert _as(people["officer"]).post(_url(cs, tree.c2), _post(c3="1")).status_code == 403
    assert _as(people["stranger"]).get(_url(cs, tree.c1)).status_code in (403, 404)
    assert not Assessment.objects.exists()
    # the coordination office writes every commune of its province
    assert _as(people["coordinator"]).post(_url(cs, tree.c2), _post(c3="1")).status_code == 302
    assert Assessment.objects.filter(unit=tree.c2).exists()


def test_unknown_set_or_year_is_not_found(tree, people):
    client = _as(people["officer"])
    assert client.get(reverse("ntm:entry", args=["NONE", tree.c1.pk, 2024])).status_code == 404
    cs = small_set()
    assert client.get(_url(cs, tree.c1, year=99)).status_code == 404


def test_the_province_records_a_recognition_only_when_every_criterion_is_met(tree, people):
    cs = small_set()
    url = _url(cs, tree.c1, name="ntm:recognition")
    data = {
        "decision_number": "7/QĐ-UBND",
        "decision_date": "20/12/2024",
        "issuer": "UBND tỉnh Hà Giang",
    }
    client = _as(people["coordinator"])
    save_assessments(
        [
            AssessmentInput(
                unit=tree.c1, criteria_set=cs, year=2024, applies_to="MN", criteria={1: True}
            )
        ]
    )
    page = client.post(url, data).content.decode()
    assert "không thể ghi quyết định công nhận 7/QĐ-UBND" in page and "1/3" in page
    assert not Recognition.objects.exists()
    assert _as(people["officer"]).post(url, data).status_code == 403
    assert _as(people["leader"]).post(url, data).status_code == 403
    save_assessments(
        [AssessmentInput(unit=tree.c1, criteria_set=cs, year=2024, criteria={2: True, 3: True})]
    )
    assert client.post(url, data).status_code == 302
    rec = Recognition.objects.get()
    assert (rec.decision_date, rec.year) == (date(2024, 12, 20), 2024)
    page = client.get(url).content.decode()
    assert "7/QĐ-UBND" in page and "20/12/2024" in page
    response = client.post(
        url,
        {
            "action": "withdraw",
            "recognition": rec.pk,
            "withdrawn_number": "9/QĐ-UBND",
            "withdrawn_on": "01/03/2025",
        },
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert (rec.withdrawn_number, rec.withdrawn_on) == ("9/QĐ-UBND", date(2025, 3, 1))
