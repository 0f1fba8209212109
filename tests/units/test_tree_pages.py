"""The unit pages of issue 10: the tree on any date (``/don-vi/?ngay=31/12/2019``), a unit's
lineage (``/don-vi/<pk>/lich-su/``) and the page that records a change."""

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.units.models import ChangeKind, Level, UnitChange, UnitKind


@pytest.fixture
def coordinator(tree):
    return factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)


def main(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return html.split("<main>")[1].split("</main>")[0] if "<main>" in html else html


def get(client, name, *args, **params):
    return client.get(reverse(name, args=args), params)


# --- the tree on a date -------------------------------------------------------------------


def test_the_tree_on_a_date_typed_the_vietnamese_way(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay="31/12/2019"))
    assert "Cây đơn vị tại ngày 31/12/2019" in html
    assert "Tỉnh Hà Giang" in html and "Huyện Vị Xuyên" in html
    assert "Tỉnh Tuyên Quang" not in html
    assert 'name="ngay" value="31/12/2019"' in html


def test_the_tree_defaults_to_today(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:list"))
    assert f"Cây đơn vị tại ngày {date.today():%d/%m/%Y}" in html
    assert "Tỉnh Tuyên Quang" in html and "Tỉnh Hà Giang" not in html


@pytest.mark.parametrize("typed", ["31/02/2019", "hôm qua", "2019-13-01", "00/00/0000"])
def test_an_invalid_date_gets_a_message_not_an_error(client, tree, coordinator, typed):
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay=typed))
    assert "không hợp lệ" in html and typed in html
    assert "Tỉnh Tuyên Quang" in html  # today's tree instead


@pytest.mark.parametrize("typed", ["３１/１２/２０１９", "٣١/١٢/٢٠١٩", "2019–12–31"])
def test_digits_of_a_phone_keyboard_read_as_the_date_they_are(client, tree, coordinator, typed):
    """Full-width, Arabic-Indic digits and a typographic dash are the same date."""
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay=typed))
    assert "Cây đơn vị tại ngày 31/12/2019" in html and "không hợp lệ" not in html
    assert "Tỉnh Hà Giang" in html


def test_expanding_a_node_keeps_the_date_of_the_tree(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay="31/12/2019"))
    assert f"{reverse('units:children', args=[tree.vi_xuyen.pk])}?ngay=31/12/2019" in html
    children = get(client, "units:children", tree.vi_xuyen.pk, ngay="31/12/2019").content.decode()
    assert "Xã Một" in children and "Xã Hai" in children


def test_the_tree_shows_the_names_of_that_day(client, tree, coordinator):
    """A rename is a new version: the tree of a day shows the name of that day."""
    renamed = factories.unit(
        "00001",
        "Xã Một Mới",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.vi_xuyen,
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 6, 30),
    )
    tree.c1.valid_to = date(2023, 12, 31)
    tree.c1.save()
    UnitChange.objects.create(
        kind=ChangeKind.RENAME,
        effective_date=date(2024, 1, 1),
        legal_basis="99/NQ-HĐND",
        predecessor=tree.c1,
        successor=renamed,
    )
    client.force_login(coordinator)
    before = get(client, "units:children", tree.vi_xuyen.pk, ngay="31/12/2023").content.decode()
    after = get(client, "units:children", tree.vi_xuyen.pk, ngay="01/01/2024").content.decode()
    assert "Xã Một<" in before and "Xã Một Mới" not in before
    assert "Xã Một Mới" in after


# --- the lineage --------------------------------------------------------------------------


def test_the_lineage_of_a_split_commune_goes_forward_to_both_parts(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.c4.pk))
    assert "Lịch sử Xã Bốn" in html
    later = html.split('class="here"')[1]
    assert "01/07/2025" in later and "Chia tách" in later and "202/2025/QH15" in later
    assert "Xã Mới Hai" in later and "Xã Mới Ba" in later
    assert "chưa có tỷ lệ phân bổ" in later


def test_the_lineage_of_a_new_commune_goes_back_to_every_predecessor(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.n2.pk))
    earlier = html.split('<li class="here">')[0]
    for name in ("Xã Hai", "Xã Ba", "Xã Bốn"):
        assert name in earlier
    assert "Sáp nhập" in earlier


def test_the_lineage_follows_a_chain_of_events_in_date_order(client, tree, coordinator):
    """Xã Hai → Xã Mới Hai (2025) → renamed Xã Hai Mới (2027): both steps, oldest first, and
    the renamed unit is a version of Xã Mới Hai."""
    renamed = factories.unit(
        "10002",
        "Xã Hai Mới",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.tuyen_quang,
        valid_from=date(2027, 1, 1),
    )
    tree.n2.valid_to = date(2026, 12, 31)
    tree.n2.save()
    UnitChange.objects.create(
        kind=ChangeKind.RENAME,
        effective_date=date(2027, 1, 1),
        legal_basis="12/NQ-UBTVQH16",
        predecessor=tree.n2,
        successor=renamed,
    )
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.c2.pk))
    assert html.index("01/07/2025") < html.index("01/01/2027")
    assert "Xã Hai Mới" in html and "12/NQ-UBTVQH16" in html and "Đổi tên" in html
    versions = main(get(client, "units:history", tree.n2.pk)).split("Các phiên bản")[1]
    assert "Xã Mới Hai" in versions and "Xã Hai Mới" in versions
    assert "Xã Hai<" not in versions  # merged into it, not a version of it


def test_a_unit_without_changes_says_so(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.agency.pk))
    assert "chưa qua lần sắp xếp nào" in html


def test_the_unit_page_links_to_its_lineage(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:detail", tree.c1.pk))
    assert reverse("units:history", args=[tree.c1.pk]) in html


def test_units_outside_the_scope_are_named_but_not_linked(client, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    html = main(get(client, "units:history", tree.c1.pk))
    assert "Xã Mới Một" in html
    assert reverse("units:detail", args=[tree.n1.pk]) not in html


# --- access ---------------------------------------------------------------------------------


def test_the_lineage_asks_an_anonymous_visitor_to_log_in(client, tree):
    response = get(client, "units:history", tree.c1.pk)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_lineage_of_another_units_commune_is_refused(client, tree):
    client.force_login(factories.user("xa.khac", tree.other_commune, Role.COMMUNE_OFFICER))
    assert get(client, "units:history", tree.c1.pk).status_code == 403
    assert get(client, "units:list", ngay="31/12/2019").status_code == 200


def test_a_leader_reads_the_tree_and_the_lineage(client, tree):
    client.force_login(factories.user("lanhdao", tree.tuyen_quang, Role.LEADER))
    assert "Tỉnh Hà Giang" in main(get(client, "units:list", ngay="31/12/2019"))
    assert "Xã Mới Hai" in main(get(client, "units:history", tree.c2.pk))


def test_an_unknown_unit_is_not_found(client, tree, coordinator):
    client.force_login(coordinator)
    assert client.get("/don-vi/999999/lich-su/").status_code == 404


# --- recording a change ---------------------------------------------------------------------


def change_data(unit, **overrides) -> dict:
    """What the form posts for a rename of ``unit`` on 01/01/2027 (the other rows empty)."""
    from tiendo.organisation.change_views import unit_version

    data = {
        "kind": "rename",
        "effective": "01/01/2027",
        "act_number": "15/NQ-UBTVQH16",
        "act_signed_on": "20/11/2026",
        "act_issuer": "Ủy ban Thường vụ Quốc hội",
        "act_title": "Nghị quyết đổi tên xã (thử)",
        "note": "",
        "version": unit_version(unit),
        "lk0-from_code": unit.code,
        "lk0-to_name": "Xã Mới Một Đổi Tên",
    }
    data.update(overrides)
    return data


def record(client, unit, **overrides):
    return client.post(
        reverse("units:change_record", args=[unit.pk]), change_data(unit, **overrides)
    )


def test_the_coordinator_of_the_province_records_a_rename_with_its_legal_basis(
    client, tree, coordinator
):
    from tiendo.core.models import AuditEntry
    from tiendo.units.models import UnitEvent

    client.force_login(coordinator)
    form = main(get(client, "units:change_record", tree.n1.pk))
    assert 'name="lk0-from_code"' in form and 'value="10001"' in form
    response = record(client, tree.n1)
    assert response.status_code == 302
    event = UnitEvent.objects.get()
    assert (event.kind, event.effective_date, event.act.number) == (
        "rename",
        date(2027, 1, 1),
        "15/NQ-UBTVQH16",
    )
    assert event.act.signed_on == date(2026, 11, 20) and event.created_by == coordinator
    renamed = event.links.get().successor
    assert response.url == reverse("units:history", args=[renamed.pk])
    tree.n1.refresh_from_db()
    assert tree.n1.valid_to == date(2026, 12, 31) and renamed.name == "Xã Mới Một Đổi Tên"
    entry = AuditEntry.objects.get(action="unit_change.events_loaded")
    assert entry.actor == coordinator
    history = main(client.get(response.url))
    assert "15/NQ-UBTVQH16" in history and "Đổi tên" in history and "Xã Mới Một" in history


def test_the_unit_page_offers_the_record_page_only_to_those_who_may(client, tree, coordinator):
    link = reverse("units:change_record", args=[tree.n1.pk])
    client.force_login(coordinator)
    assert link in main(get(client, "units:detail", tree.n1.pk))
    client.force_login(factories.user("lanhdao", tree.tuyen_quang, Role.LEADER))
    assert link not in main(get(client, "units:detail", tree.n1.pk))


def test_the_same_form_sent_twice_records_one_event(client, tree, coordinator):
    from tiendo.units.models import UnitEvent

    client.force_login(coordinator)
    data = change_data(tree.n1)
    url = reverse("units:change_record", args=[tree.n1.pk])
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 400
    assert "đã thay đổi từ khi bạn mở trang này" in again.content.decode()
    assert UnitEvent.objects.count() == 1


def test_a_missing_legal_basis_is_named(client, tree, coordinator):
    client.force_login(coordinator)
    response = record(client, tree.n1, act_number="", act_signed_on="31/02/2026")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Hãy nhập “Số, ký hiệu văn bản”." in html
    assert "“Ngày ban hành văn bản” không phải là ngày hợp lệ" in html


def test_a_form_without_rows_is_refused(client, tree, coordinator):
    client.force_login(coordinator)
    response = record(client, tree.n1, **{"lk0-from_code": "", "lk0-to_name": ""})
    assert response.status_code == 400
    assert "ít nhất một dòng" in response.content.decode()


def test_a_change_the_rules_refuse_is_shown_with_its_row(client, tree, coordinator):
    """A rename to the same name changes nothing: the rule's message, on row 1, no error page."""
    from tiendo.units.models import UnitEvent

    client.force_login(coordinator)
    response = record(client, tree.n1, **{"lk0-to_name": "Xã Mới Một"})
    html = response.content.decode()
    assert response.status_code == 400 and "Dòng 1" in html
    assert UnitEvent.objects.count() == 0


def test_a_row_naming_a_unit_of_another_province_is_refused(client, tree, coordinator):
    client.force_login(coordinator)
    response = record(
        client,
        tree.n1,
        kind="merge",
        **{
            "lk0-to_name": "",
            "lk0-to_code": "10001",
            "lk1-from_code": "20001",
            "lk1-to_code": "10001",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Dòng 2: bạn không được thay đổi đơn vị Xã Khác" in html


def test_recording_asks_an_anonymous_visitor_to_log_in(client, tree):
    response = get(client, "units:change_record", tree.n1.pk)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "who",
    ["leader", "officer", "other_coordinator", "old_coordinator"],
)
def test_recording_is_refused_to_others(client, tree, who):
    people = {
        "leader": (tree.tuyen_quang, Role.LEADER),  # reads the province, writes nothing
        "officer": (tree.n1, Role.COMMUNE_OFFICER),  # writes the commune's figures only
        "other_coordinator": (tree.other_province, Role.COORDINATOR),
        "old_coordinator": (tree.ha_giang, Role.COORDINATOR),  # reads n1's past, not n1
    }
    unit, role = people[who]
    client.force_login(factories.user(who, unit, role))
    assert get(client, "units:change_record", tree.n1.pk).status_code == 403
    assert record(client, tree.n1).status_code == 403


def test_the_administrator_records_anywhere(client, tree):
    client.force_login(factories.user("quantri", tree.nation, Role.ADMIN))
    assert record(client, tree.other_commune, **{"lk0-to_name": "Xã Khác Mới"}).status_code == 302


def test_an_agency_has_no_record_page(client, tree):
    client.force_login(factories.user("quantri", tree.nation, Role.ADMIN))
    assert get(client, "units:change_record", tree.agency.pk).status_code == 404


# --- chains of events (tests/units/fixtures/synthetic-chains.csv) ---------------------------

CHAINS = Path(__file__).parent / "fixtures" / "synthetic-chains.csv"


@pytest.fixture
def chains(tree):
    """The mini tree with the synthetic chains loaded by the command people run: A, a split
    then a rename (two events); B, a merge, a new code, a commune become a ward (three); C,
    a merger of 2020 before the tree's 2025 links."""
    out = StringIO()
    call_command("units", "changes", "load", str(CHAINS), stdout=out)
    assert "Đã ghi 6 sự kiện" in out.getvalue()
    return tree


def test_a_chain_of_two_events_reads_forward_from_the_first_unit(client, chains, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", chains.n2.pk))
    later = html.split('<li class="here">')[1]
    assert later.index("01/01/2027") < later.index("01/01/2028")
    assert "Chia tách" in later and "Xã Mới Bốn" in later and "40%" in later
    assert "Xã Mới Bốn Đổi Tên" in later and "902/NQ-TEST" in later


def test_a_chain_of_three_events_and_the_versions_of_the_unit(client, chains, coordinator):
    from tiendo.units.models import Unit

    ward = Unit.objects.get(name="Phường Mới Một")
    client.force_login(coordinator)
    html = main(get(client, "units:history", ward.pk))
    earlier = html.split('<li class="here">')[0]
    steps = ["01/07/2025", "01/01/2027", "01/01/2028", "01/01/2029"]
    assert [earlier.index(day) for day in steps] == sorted(earlier.index(day) for day in steps)
    for words in ("Xã Một", "Xã Mới Ba", "10011", "Chuyển loại đơn vị", "903/NQ-TEST"):
        assert words in earlier
    versions = html.split("Các phiên bản")[1]
    for name in ("Xã Mới Một", "Phường Mới Một"):
        assert name in versions
    assert versions.count("<tr>") == 5  # header, 2025, 2027, 2028 (new code), 2029 (ward)


def test_a_chain_back_before_2025_reaches_the_commune_gone_in_2020(client, chains, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", chains.n1.pk))
    earlier = html.split('<li class="here">')[0]
    assert earlier.index("01/01/2020") < earlier.index("01/07/2025")
    assert "Xã Cũ" in earlier and "900/NQ-TEST" in earlier


def test_the_tree_on_each_date_of_a_chain(client, chains, coordinator):
    client.force_login(coordinator)
    names = {
        "31/12/2019": ("Xã Cũ", "Xã Một"),
        "31/12/2027": ("Xã Mới Một", "Xã Mới Bốn"),
        "01/01/2029": ("Phường Mới Một", "Xã Mới Bốn Đổi Tên"),
    }
    for day, expected in names.items():
        tree_html = main(get(client, "units:list", ngay=day))
        parent = chains.vi_xuyen if day == "31/12/2019" else chains.tuyen_quang
        children = get(client, "units:children", parent.pk, ngay=day).content.decode()
        assert f"Cây đơn vị tại ngày {day}" in tree_html
        for name in expected:
            assert f">{name}<" in children, (day, name)


def test_more_rows_keep_what_was_typed_and_record_nothing(client, tree, coordinator):
    from tiendo.units.models import UnitEvent

    client.force_login(coordinator)
    data = change_data(tree.n1, kind="merge", **{"lk1-from_code": "10003", "them_dong": "1"})
    response = client.post(reverse("units:change_record", args=[tree.n1.pk]), data)
    html = main(response)
    assert 'name="lk5-from_code"' in html and 'name="lk6-from_code"' not in html
    assert 'value="10003"' in html and 'value="15/NQ-UBTVQH16"' in html
    assert "Hãy nhập" not in html and UnitEvent.objects.count() == 0


def test_a_lineage_longer_than_the_cap_says_it_is_cut(client, chains, coordinator, monkeypatch):
    from tiendo.units import lineage as lineage_module
    from tiendo.units.models import Unit

    monkeypatch.setattr(lineage_module, "MAX_STEPS", 2)
    ward = Unit.objects.get(name="Phường Mới Một")
    found = lineage_module.lineage(ward)
    assert found.truncated and len(found.earlier) == 2
    client.force_login(coordinator)
    assert "chỉ hiển thị một phần" in main(get(client, "units:history", ward.pk))


def test_the_lineage_page_reads_a_bounded_number_of_queries(
    client, chains, coordinator, django_assert_max_num_queries
):
    from tiendo.units.models import Unit

    ward = Unit.objects.get(name="Phường Mới Một")
    client.force_login(coordinator)
    with django_assert_max_num_queries(30):  # 24 today, for six steps
        main(get(client, "units:history", ward.pk))
