"""The validation page and the explanation form: four personas each, through the unit scope."""

import pytest
from django.urls import reverse

from tests import factories
from tests.data.helpers import save_beyond_limits
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.data.models import ValidationFinding, ValidationRule
from tiendo.data.services import Entry, save_value


@pytest.fixture
def world(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    plan = factories.indicator(prog, "PLAN", name="Kế hoạch vốn", measure_unit="triệu đồng")
    paid = factories.indicator(prog, "PAID", name="Giải ngân", measure_unit="triệu đồng")
    households = factories.indicator(prog, "HH", name="Số hộ", max_value=D(100))
    ValidationRule.objects.create(
        programme=prog,
        code="PAID_WITHIN_PLAN",
        name="Giải ngân không vượt kế hoạch",
        expression="PAID <= PLAN",
        importance="high",
        message="Vốn giải ngân ({left} triệu đồng) vượt kế hoạch ({right} triệu đồng).",
    )
    save_value(Entry(plan, tree.c3, "2024", D(1000)))
    save_value(Entry(paid, tree.c3, "2024", D("1250.5")))
    save_beyond_limits(Entry(households, tree.c4, "2024", D(4000)))
    return {
        "tree": tree,
        "prog": prog,
        "officer": factories.user("canbo.bacquang", tree.bac_quang, Role.AGENCY_OFFICER),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": factories.user("canbo.quangtri", tree.other_province, Role.COORDINATOR),
        "successor": factories.user("canbo.tuyenquang", tree.tuyen_quang, Role.COORDINATOR),
    }


def page(unit, period="2024", **extra):
    query = "&".join(f"{k}={v}" for k, v in {"unit": unit.pk, "period": period, **extra}.items())
    return reverse("data:validation") + "?" + query


def explain(world, key="rule:PAID_WITHIN_PLAN", note="Vốn năm trước chuyển sang", target=None):
    tree = world["tree"]
    return {
        "target": (target or tree.c3).pk,
        "unit": tree.bac_quang.pk,
        "period": "2024",
        "item_period": "2024",
        "programme": "",
        "key": key,
        "note": note,
    }


MESSAGE = "Vốn giải ngân (1.250,5 triệu đồng) vượt kế hoạch (1.000 triệu đồng)."
OUTLIER = "Giá trị 4.000 lớn hơn mức cao nhất cho phép (100 hộ)."


def test_anonymous_is_sent_to_the_login_page(client, world):
    for url in (page(world["tree"].bac_quang), reverse("data:validation")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("data:validation_resolve"), explain(world))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not ValidationFinding.objects.exists()


def test_a_user_of_another_unit_gets_403(client, world):
    client.force_login(world["stranger"])
    tree = world["tree"]
    assert client.get(page(tree.bac_quang)).status_code == 403
    assert client.get(page(tree.c3)).status_code == 403
    assert client.post(reverse("data:validation_resolve"), explain(world)).status_code == 403
    assert not ValidationFinding.objects.exists()


def test_an_officer_cannot_read_the_province_above_their_unit(client, world):
    client.force_login(world["officer"])
    assert client.get(page(world["tree"].ha_giang)).status_code == 403


def test_the_leader_reads_violations_and_outliers_but_cannot_explain(client, world):
    client.force_login(world["leader"])
    html = client.get(page(world["tree"].ha_giang)).content.decode()
    assert MESSAGE in html and OUTLIER in html
    assert "Xã Ba" in html and "Huyện Bắc Quang" in html  # listed by unit, below the province
    assert 'name="note"' not in html and "Chưa giải trình" in html
    assert client.post(reverse("data:validation_resolve"), explain(world)).status_code == 403
    assert not ValidationFinding.objects.exists()


def test_the_officer_explains_a_violation_and_the_page_shows_it(client, world):
    client.force_login(world["officer"])
    html = client.get(page(world["tree"].bac_quang)).content.decode()
    assert MESSAGE in html and 'name="note"' in html and ">Cao</span>" in html
    response = client.post(reverse("data:validation_resolve"), explain(world))
    assert response.status_code == 302
    assert response["Location"] == page(world["tree"].bac_quang)
    finding = ValidationFinding.objects.get()
    assert (finding.resolved_by, finding.value, finding.reference) == (
        world["officer"],
        D("1250.5"),
        D(1000),
    )
    html = client.get(response["Location"]).content.decode()
    assert "Đã giải trình" in html and "Vốn năm trước chuyển sang" in html


def test_an_outlier_is_confirmed_and_an_empty_note_is_refused(client, world):
    client.force_login(world["officer"])
    tree = world["tree"]
    empty = explain(world, key="outlier:HH:", note=" ", target=tree.c4)
    response = client.post(reverse("data:validation_resolve"), empty, follow=True)
    assert "Xin ghi rõ lý do" in response.content.decode()
    assert not ValidationFinding.objects.exists()
    client.post(
        reverse("data:validation_resolve"),
        explain(world, key="outlier:HH:", note="Đã xác minh", target=tree.c4),
    )
    assert ValidationFinding.objects.get().kind == "outlier"


def test_a_stale_warning_is_not_recorded(client, world):
    client.force_login(world["officer"])
    response = client.post(
        reverse("data:validation_resolve"), explain(world, key="rule:NO_SUCH_RULE"), follow=True
    )
    assert "cảnh báo này không còn" in response.content.decode()
    assert not ValidationFinding.objects.exists()


def test_the_users_own_unit_is_the_default_and_a_bad_period_is_explained(client, world):
    client.force_login(world["officer"])
    html = client.get(reverse("data:validation") + "?period=2024").content.decode()
    assert MESSAGE in html
    html = client.get(reverse("data:validation") + "?period=2024X").content.decode()
    assert "Kỳ báo cáo “2024X” không hợp lệ" in html


def test_todays_province_reads_what_the_old_province_reported(client, world):
    client.force_login(world["successor"])
    html = client.get(page(world["tree"].ha_giang)).content.decode()
    assert MESSAGE in html


def test_the_programme_chosen_narrows_the_rules_and_an_unknown_one_is_not_found(client, world):
    other = factories.programme("NQ99", "Chương trình khác")
    client.force_login(world["officer"])
    assert MESSAGE in client.get(page(world["tree"].bac_quang, programme="NQ05")).content.decode()
    html = client.get(page(world["tree"].bac_quang, programme=other.code)).content.decode()
    assert MESSAGE not in html
    assert client.get(page(world["tree"].bac_quang, programme="NOPE")).status_code == 404
