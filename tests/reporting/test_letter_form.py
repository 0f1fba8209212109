"""The letter form: recipients from the unit tree, the preview, refusals, access."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from tests import factories
from tiendo.accounts.models import Role, User
from tiendo.reporting import services
from tiendo.reporting.forms import RequestForm
from tiendo.reporting.models import Form, ReportRequest
from tiendo.reporting.recipients import digest, fold
from tiendo.reporting.services import Letter, ReportingError
from tiendo.units.models import Level, Unit, UnitKind

URL = "/bao-cao/cong-van/tao/"


@dataclass
class World:
    tree: factories.MiniTree
    city: Unit  # Thành phố Hà Giang: a city at district level
    ward: Unit
    dissolved: Unit  # a commune of Vị Xuyên that ended before the letter's date
    form: Form
    coordinator: User
    leader: User
    stranger: User
    officer: User


@pytest.fixture
def world(tree) -> World:
    hg = tree.ha_giang
    city = factories.unit(
        "024",
        "Thành phố Hà Giang",
        UnitKind.PROVINCIAL_CITY,
        Level.DISTRICT,
        hg,
        valid_to=factories.OLD_END,
    )
    ward = factories.unit(
        "00688", "Phường Minh Khai", UnitKind.WARD, Level.COMMUNE, city, valid_to=factories.OLD_END
    )
    dissolved = factories.unit(
        "00009",
        "Xã Đã Giải Thể",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.vi_xuyen,
        valid_to=date(2024, 6, 30),
    )
    prog = factories.programme()
    form = Form.objects.create(
        code="P1_XA", name="Biểu năm", programme=prog, unit_kinds=["commune"], period_type="year"
    )
    return World(
        tree,
        city,
        ward,
        dissolved,
        form,
        factories.user("bcd.hg", hg, Role.COORDINATOR),
        factories.user("lanhdao.hg", hg, Role.LEADER),
        factories.user("bcd.qt", tree.other_province, Role.COORDINATOR),
        factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
    )


def _data(w: World, **kw) -> dict:
    data = {
        "number_symbol": "30/BCĐ-NTM",
        "issued_on": "2024-11-25",
        "issuer": w.tree.ha_giang.pk,
        "title": "Báo cáo kết quả năm 2024",
        "period": "2024",
        "deadline": "2024-12-15",
        "forms": [w.form.pk],
        "sections": "Kết quả đạt được",
    }
    data.update(kw)
    return data


def _post(client, user, data):
    client.force_login(user)
    return client.post(URL, data)


def _names(preview) -> set[str]:
    return {u.name for u in preview.units}


# -- the tree ---------------------------------------------------------------------------


def test_ticking_a_district_includes_its_communes_but_not_the_dissolved_one(client, world):
    response = _post(client, world.coordinator, _data(world, recipients=[world.tree.vi_xuyen.pk]))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert _names(preview) == {"Huyện Vị Xuyên", "Xã Một", "Xã Hai"}
    assert "Xã Đã Giải Thể" not in response.content.decode()  # not valid on 25/11/2024
    assert not ReportRequest.objects.exists()  # a preview writes nothing


def test_with_the_script_the_ticks_are_taken_literally(client, world):
    t = world.tree
    data = _data(world, recipients=[t.vi_xuyen.pk, t.c1.pk], recipients_exact="1")
    preview = _post(client, world.coordinator, data).context["preview"]
    assert _names(preview) == {"Huyện Vị Xuyên", "Xã Một"}


def test_the_issuer_itself_is_ticked_apart_and_brings_nothing_with_it(client, world):
    data = _data(world, recipients=[world.tree.ha_giang.pk])
    preview = _post(client, world.coordinator, data).context["preview"]
    assert _names(preview) == {"Tỉnh Hà Giang"}


def test_the_district_level_choice_includes_the_city(client, world):
    # the tree is drawn for the letter's date (redrawn for it, nothing validated)
    page = _post(client, world.coordinator, _data(world, action="search")).content.decode()
    # the quick choice says what it holds: no unit of the level is left out silently
    assert "2 huyện, 1 thành phố thuộc tỉnh" in page
    preview = _post(client, world.coordinator, _data(world, groups=["district"])).context["preview"]
    assert _names(preview) == {"Huyện Vị Xuyên", "Huyện Bắc Quang", "Thành phố Hà Giang"}
    assert "Sở Nông nghiệp tỉnh Hà Giang" not in _names(preview)  # an agency, not a district


def test_the_commune_level_choice_includes_wards(client, world):
    data = _data(world, groups=["commune"])
    preview = _post(client, world.coordinator, data).context["preview"]
    assert _names(preview) == {"Xã Một", "Xã Hai", "Xã Ba", "Xã Bốn", "Phường Minh Khai"}


def test_search_ignores_accents_and_keeps_what_was_typed(client, world):
    assert fold("Thành phố Hà Giang").find(fold("ha giang")) >= 0
    assert fold("Đồng Văn") == "dong van" and fold("  HÀ   Giang ") == "ha giang"
    data = _data(world, title="Tiêu đề đang gõ", q="ha giang", action="search", period="")
    response = _post(client, world.coordinator, data)
    body = response.content.decode()
    assert "<mark>Thành phố Hà Giang</mark>" in body
    assert re.search(r'id="search-results".*Thành phố Hà Giang', body, re.S)
    assert "Tiêu đề đang gõ" in body  # the form keeps its data
    assert 'id="form-errors"' not in body  # a search is not a submission
    assert "<mark>Xã Một</mark>" not in body
    # the branch holding a match is open, the others closed
    city = body.index("<mark>Thành phố Hà Giang</mark>")
    assert "<details open>" not in body[city:]
    response = _post(client, world.coordinator, {**data, "q": "phuong minh"})
    assert re.search(
        r"<details open>.*<mark>Phường Minh Khai</mark>", response.content.decode(), re.S
    )


# -- the preview and the confirmation ---------------------------------------------------


def test_the_preview_counts_and_groups_by_parent_then_the_confirmation_saves(client, world):
    data = _data(world, groups=["district", "commune"])
    response = _post(client, world.coordinator, data)
    preview = response.context["preview"]
    assert preview.count == 8
    assert preview.headline == ("Gửi đến 8 đơn vị: 2 huyện, 1 thành phố thuộc tỉnh, 4 xã, 1 phường")
    groups = {(p.name if p else None): [u.name for u in units] for p, units in preview.groups}
    assert groups == {
        "Tỉnh Hà Giang": ["Huyện Bắc Quang", "Huyện Vị Xuyên", "Thành phố Hà Giang"],
        "Huyện Bắc Quang": ["Xã Ba", "Xã Bốn"],
        "Huyện Vị Xuyên": ["Xã Hai", "Xã Một"],
        "Thành phố Hà Giang": ["Phường Minh Khai"],
    }
    body = response.content.decode()
    assert preview.headline in body and 'data-preview-count="8"' in body
    # a confirmation of another list (the ticks changed since) is previewed again
    stale = {**data, "action": "save", "confirm": digest([world.tree.c1])}
    response = _post(client, world.coordinator, stale)
    assert response.status_code == 200 and not ReportRequest.objects.exists()
    assert response.context["preview"].count == 8
    response = _post(
        client, world.coordinator, {**data, "action": "save", "confirm": preview.digest}
    )
    assert response.status_code == 302
    req = ReportRequest.objects.get()
    assert req.recipients.count() == 8
    assert set(req.recipients.values_list("unit__name", flat=True)) == _names(preview)


def test_the_send_page_shows_the_recipients_grouped_with_their_count(client, world):
    data = _data(world, recipients=[world.tree.vi_xuyen.pk])
    preview = _post(client, world.coordinator, data).context["preview"]
    _post(client, world.coordinator, {**data, "action": "save", "confirm": preview.digest})
    req = ReportRequest.objects.get()
    body = client.post(reverse("reporting:request_send", args=[req.pk])).content.decode()
    assert "Gửi đến 3 đơn vị: 1 huyện, 2 xã" in body


# -- refusals -------------------------------------------------------------------------


def _codes(response, field) -> list[str]:
    return [e.code for e in response.context["form"].errors.as_data().get(field, [])]


def test_a_recipient_outside_the_issuers_scope_is_refused_with_a_code(client, world):
    t = world.tree
    for outsider in (t.other_commune, t.n1, world.dissolved):
        data = _data(world, recipients=[t.c1.pk, outsider.pk], recipients_exact="1")
        response = _post(client, world.coordinator, data)
        assert _codes(response, "recipients") == ["reporting.recipient_out_of_scope"], outsider
        assert outsider.name in response.content.decode()
        assert response.context["preview"] is None
    # a district's letter does not reach another district's communes
    data = _data(world, issuer=t.vi_xuyen.pk, recipients=[t.c3.pk], recipients_exact="1")
    district_coordinator = factories.user("bcd.vx", t.vi_xuyen, Role.COORDINATOR)
    response = _post(client, district_coordinator, data)
    assert _codes(response, "recipients") == ["reporting.recipient_out_of_scope"]
    assert not ReportRequest.objects.exists()


def test_the_service_refuses_recipients_out_of_scope_too(world):
    t = world.tree

    def letter(recipients, issuer=t.ha_giang):
        return Letter(
            number_symbol="31/BCĐ",
            issued_on=date(2024, 11, 25),
            issuer=issuer,
            title="Báo cáo",
            summary="",
            period="2024",
            data_as_of=None,
            deadline=date(2024, 12, 15),
            forms=[],
            section_titles=[],
            recipients=recipients,
        )

    for wrong in ([t.c1, t.other_commune], [world.dissolved], [t.n1]):
        with pytest.raises(ReportingError) as caught:
            services.create_request(letter(wrong), world.coordinator)
        assert caught.value.code == "reporting.recipient_out_of_scope"
    assert not ReportRequest.objects.exists()
    # a provincial agency writes to the province's units
    req = services.create_request(letter([t.c1], issuer=t.agency), world.coordinator)
    assert list(req.recipients.values_list("unit", flat=True)) == [t.c1.pk]


def test_every_invalid_field_is_reported_at_once(client, world):
    data = _data(
        world,
        title="",
        period="2024X",
        deadline="2024-11-01",
        recipients=[world.tree.other_commune.pk],
        recipients_exact="1",
    )
    response = _post(client, world.coordinator, data)
    errors = response.context["form"].errors.as_data()
    assert set(errors) >= {"title", "period", "deadline", "recipients"}
    assert _codes(response, "deadline") == ["reporting.deadline_before_issue"]
    assert _codes(response, "period")[0].startswith("period.")
    body = response.content.decode()
    summary = body[
        body.index('id="form-errors"') : body.index("</ul>", body.index('id="form-errors"'))
    ]
    assert summary.count("<li>") == len(errors)
    for name in ("title", "period", "deadline"):
        assert re.search(rf'<[^>]*name="{name}"[^>]*aria-invalid="true"', body) or re.search(
            rf'<[^>]*aria-invalid="true"[^>]*name="{name}"', body
        ), name
    # no recipient at all is its own error
    response = _post(client, world.coordinator, _data(world))
    assert _codes(response, "recipients") == ["reporting.no_recipients"]


def test_no_english_or_code_only_placeholder_or_help_text(client, world):
    with translation.override("vi"):
        form = RequestForm(world.coordinator)
        for name, field in form.fields.items():
            if field.help_text:
                assert not str(field.help_text).isascii(), name
    client.force_login(world.coordinator)
    pages = [URL, "/bao-cao/cong-van/", "/bao-cao/bieu-mau/P1_XA/excel/"]
    for url in pages:
        body = client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
        for text in re.findall(r'placeholder="([^"]*)"', body):
            assert not text.isascii(), (url, text)
    body = client.get(URL).content.decode()
    # the period is picked from a list in words, its value the ASCII id
    assert re.search(r'<option value="\d{4}Q3"[^>]*>Quý III năm \d{4}</option>', body)


# -- access -----------------------------------------------------------------------------


def test_access_to_the_letter_form(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]
    response = client.post(URL, _data(world, recipients=[world.tree.c1.pk]))
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]
    for user in (world.leader, world.officer):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, _data(world, recipients=[world.tree.c1.pk])).status_code == 403
    # another province's coordinator: Hà Giang is no issuer of theirs, its units no recipients
    client.force_login(world.stranger)
    page = client.get(URL).content.decode()
    assert "Xã Một" not in page and "Xã Khác" in page
    data = _data(world, recipients=[world.tree.c1.pk], action="save", confirm="x")
    response = client.post(URL, data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"issuer"}
    data = _data(
        world,
        issuer=world.tree.other_province.pk,
        issued_on="2025-08-01",
        recipients=[world.tree.c1.pk],
        recipients_exact="1",
    )
    response = client.post(URL, data)
    assert _codes(response, "recipients") == ["reporting.recipient_out_of_scope"]
    assert not ReportRequest.objects.exists()
    # the coordinator of the unit writes
    client.force_login(world.coordinator)
    assert client.get(URL).status_code == 200
    data = _data(world, recipients=[world.tree.c1.pk], recipients_exact="1")
    data.update(action="save", confirm=digest([world.tree.c1]))
    assert client.post(URL, data).status_code == 302
    assert ReportRequest.objects.get().issuer == world.tree.ha_giang
