"""The NTM pages: an area's matrix (history-true and in the tree of a day), its filters and
Excel export, a commune's scorecard, progress by year; illustrative data labelled; the
scope of each persona; English through the catalogue; queries that do not grow with the
number of communes."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tests.ntm.page_helpers import assess, ntm_world
from tiendo.accounts.models import Role
from tiendo.core.formatting import format_date
from tiendo.ntm import matrix as q
from tiendo.ntm.models import Recognition
from tiendo.units.models import Level, Unit, UnitKind

pytestmark = pytest.mark.django_db
TODAY = format_date(date.today())


@pytest.fixture
def world(tree):
    old, new = ntm_world(tree)
    return {
        "tree": tree,
        "old": old,
        "new": new,
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "new_coordinator": factories.user("bcd.tuyenquang", tree.tuyen_quang, Role.COORDINATOR),
        "district": factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER),
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }


def get(client, user, name, args=(), **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


def text(response) -> str:
    """The page's main part as a person reads it: tags dropped, blanks squeezed."""
    html = response.content.decode()
    main = html[html.index("<main>") :]
    main = shown(main)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def shown(html: str) -> str:
    """The html without the texts only a screen reader reads."""
    return re.sub(r'<span class="ntm-sr">[^<]*</span>', "", html)


def matrix_rows(response) -> dict[str, list[str]]:
    """Commune name → its cells' texts (criteria, count, band) from the matrix table."""
    html = shown(response.content.decode())
    body = html[html.index('<table class="ntm-matrix">') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    rows = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
        name = re.search(r'<td class="unit"><a href="[^"]*">([^<]+)</a>', tr)
        rows[name.group(1)] = cells[1:]
    return rows


# --- the matrix ----------------------------------------------------------------------------


def test_the_province_matrix_of_a_year_shows_each_communes_result_by_text(client, world):
    tree = world["tree"]
    response = get(client, world["coordinator"], "ntm:matrix", unit=tree.ha_giang.pk, year=2024)
    assert response.status_code == 200
    rows = matrix_rows(response)
    assert rows == {
        "Xã Một": ["Đạt", "Đạt", "Đạt", "3/3", "3 tiêu chí Đạt chuẩn nông thôn mới"],
        "Xã Hai": ["Đạt", "Chưa đạt", "Đạt", "2/3", "1–2 tiêu chí"],
        "Xã Ba": ["Chưa đạt", "Chưa đạt", "Chưa đạt", "0/3", "Dưới 1 tiêu chí"],
        "Xã Bốn": ["—", "—", "—", "Chưa đánh giá", ""],
    }
    html = response.content.decode()
    # colour is the second cue: every cell has its text and its class
    assert html.count('class="ntm-res ntm-met">Đạt<') == 5
    assert html.count('class="ntm-res ntm-unmet">Chưa đạt<') == 4
    assert 'class="ntm-legend"' in html
    page = text(response)
    assert "Số xã 4 " in page and "Đã đánh giá 3 " in page
    assert "Đạt tất cả tiêu chí 1 (25%)" in page and "Bình quân tiêu chí/xã 1,67" in page
    assert "3 tiêu chí: 1" in page and "Chưa đánh giá: 1" in page
    assert "Số liệu minh họa" not in page


def test_a_ward_is_not_a_commune_of_the_criteria_unless_it_was_assessed(client, world):
    """The commune criteria are for xã: a phường of the district is not counted as a
    commune not yet assessed."""
    from tiendo.ntm.services import AssessmentInput, save_assessments

    tree = world["tree"]
    ward = factories.unit(
        "00009",
        "Phường Chín",
        UnitKind.WARD,
        Level.COMMUNE,
        tree.vi_xuyen,
        valid_to=date(2025, 6, 30),
    )
    response = get(client, world["coordinator"], "ntm:matrix", unit=tree.ha_giang.pk, year=2024)
    assert "Phường Chín" not in matrix_rows(response)
    assert "Số xã 4 " in text(response)
    save_assessments(
        [
            AssessmentInput(
                unit=ward,
                criteria_set=world["old"],
                year=2024,
                applies_to="MN",
                criteria={1: True, 2: True, 3: True},
            )
        ]
    )
    response = get(client, world["coordinator"], "ntm:matrix", unit=tree.ha_giang.pk, year=2024)
    assert matrix_rows(response)["Phường Chín"][3] == "3/3"
    years = {row.year: row for row in q.progress(tree.ha_giang, world["old"], until=2024)[0]}
    assert (years[2024].units, years[2024].assessed, years[2024].met_all) == (5, 4, 2)


def test_the_district_and_band_filters_narrow_the_rows_not_the_area(client, world):
    tree, user = world["tree"], world["coordinator"]
    by_district = get(
        client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2024, district=tree.vi_xuyen.pk
    )
    assert set(matrix_rows(by_district)) == {"Xã Một", "Xã Hai"}
    assert "Số xã 2 " in text(by_district)
    top = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2024, band="0")
    assert set(matrix_rows(top)) == {"Xã Một"}
    assert "3 tiêu chí: 1 xã" in text(top)
    assert "Số xã 4 " in text(top)  # the summary is the area's, whatever the band
    missing = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2024, band="none")
    assert set(matrix_rows(missing)) == {"Xã Bốn"}
    both = get(
        client,
        user,
        "ntm:matrix",
        unit=tree.ha_giang.pk,
        year=2024,
        district=tree.bac_quang.pk,
        band="1",
    )
    assert "Không có xã nào theo điều kiện đã chọn." in text(both)
    assert get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, band="9").status_code == 404
    # a district outside the area is not a filter
    outside = get(client, user, "ntm:matrix", unit=tree.vi_xuyen.pk, district=tree.bac_quang.pk)
    assert outside.status_code == 404


def test_the_year_and_set_are_chosen_and_kept_within_the_set(client, world):
    tree, user = world["tree"], world["coordinator"]
    default = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk)
    assert "Bộ tiêu chí thử T-2021-2025 · năm 2024" in text(default)  # the latest assessed
    year_2023 = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2023)
    assert matrix_rows(year_2023)["Xã Hai"][:3] == ["Chưa đạt", "Chưa đạt", "—"]
    late = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, set="T-2021-2025", year=2030)
    assert "không áp dụng năm 2030" in late.content.decode()
    assert get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, set="X").status_code == 404


def test_history_true_the_new_province_had_no_commune_in_2024(client, world):
    tree = world["tree"]
    response = get(
        client,
        world["new_coordinator"],
        "ntm:matrix",
        unit=tree.tuyen_quang.pk,
        set="T-2021-2025",
        year=2024,
    )
    assert response.status_code == 200
    assert "Không có xã nào theo điều kiện đã chọn." in text(response)
    assert "Tỉnh Tuyên Quang chưa có hoặc không còn trong năm 2024" in text(response)


def test_in_todays_tree_the_new_province_shows_the_old_communes_it_took_over(client, world):
    tree = world["tree"]
    response = get(
        client,
        world["new_coordinator"],
        "ntm:matrix",
        unit=tree.tuyen_quang.pk,
        set="T-2021-2025",
        year=2024,
        ngay=TODAY,
    )
    rows = matrix_rows(response)
    # the column "Nay thuộc" comes first in today's view
    assert {name: cells[0] for name, cells in rows.items()} == {
        "Xã Một": "Xã Mới Một",
        "Xã Hai": "Xã Mới Hai",
        "Xã Ba": "Xã Mới Hai",
        "Xã Bốn": "Xã Mới Ba, Xã Mới Hai",
    }
    assert rows["Xã Một"][1:4] == ["Đạt", "Đạt", "Đạt"]
    assert "Số xã 4 " in text(response)


def test_an_old_province_asked_in_todays_tree_stands_for_the_province_it_became(client, world):
    tree = world["tree"]
    response = get(
        client,
        world["new_coordinator"],
        "ntm:matrix",
        unit=tree.ha_giang.pk,
        year=2024,
        ngay=TODAY,
    )
    assert "Tỉnh Hà Giang nay thuộc Tỉnh Tuyên Quang" in response.content.decode()
    assert len(matrix_rows(response)) == 4
    # Hà Giang's own coordinator may not read Tuyên Quang: the page stays in 2024's tree
    stays = get(
        client, world["coordinator"], "ntm:matrix", unit=tree.ha_giang.pk, year=2024, ngay=TODAY
    )
    assert stays.status_code == 200
    assert "đang hiển thị theo cây đơn vị của năm đánh giá" in stays.content.decode()


def test_a_commune_split_without_shares_is_listed_in_part_and_left_out_of_the_counts(world):
    tree = world["tree"]
    table = q.Matrix(tree.n2, world["old"], 2024, day=date.today())
    rows = {r.name: r for r in table.rows()}
    assert set(rows) == {"Xã Hai", "Xã Ba", "Xã Bốn"}
    assert rows["Xã Bốn"].partial and not rows["Xã Hai"].partial
    summary = table.summary()
    assert (summary.units, summary.assessed, summary.partial) == (2, 2, 1)
    assert [u.name for u, _reason in table.members.flagged] == ["Xã Bốn"]


def test_illustrative_assessments_are_labelled_on_every_page(client, tree):
    ntm_world(tree, illustrative=True)
    user = factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)
    pages = [
        get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2024),
        get(client, user, "ntm:scorecard", args=[tree.c1.pk]),
        get(client, user, "ntm:progress", unit=tree.ha_giang.pk),
    ]
    for response in pages:
        assert "Số liệu minh họa" in text(response), response.request["PATH_INFO"]
        assert "minh họa" in response.content.decode()
    plain = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2023)
    assert "Số liệu minh họa" not in text(plain)


# --- the Excel export ----------------------------------------------------------------------


def test_the_excel_export_holds_the_matrix_as_cells(client, tree):
    ntm_world(tree, illustrative=True)
    user = factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)
    response = get(client, user, "ntm:matrix_export", unit=tree.ha_giang.pk, year=2024, band="")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="ntm-T-2021-2025-2024-02.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "BẢNG TỔNG HỢP KẾT QUẢ THỰC HIỆN TIÊU CHÍ NÔNG THÔN MỚI"
    assert values[1][0] == "Tỉnh Hà Giang — Bộ tiêu chí thử T-2021-2025 — năm 2024"
    assert values[2][0] == "Số liệu minh họa, không phải số liệu chính thức."
    header = values.index(next(r for r in values if r[0] == "STT"))
    assert values[header][:5] == ("STT", "Huyện", "Xã", "Mã", "Tiêu chí")
    assert values[header + 1][4:7] == ("1", "2", "3")
    body = {r[3]: r for r in values[header + 2 : header + 6]}
    assert body["00001"] == (
        1,
        "Huyện Vị Xuyên",
        "Xã Một (minh họa)",
        "00001",
        "Đạt",
        "Đạt",
        "Đạt",
        3,
        "Đạt chuẩn nông thôn mới",
        "3 tiêu chí",
    )
    assert body["00002"][4:8] == ("Đạt", "Chưa đạt", "Đạt", 2)
    assert body["00004"][4:8] == (None, None, None, "Chưa đánh giá")
    assert sheet.cell(row=header + 3, column=8).number_format == "#,##0"


def test_the_excel_export_follows_the_filters(client, world):
    tree = world["tree"]
    response = get(
        client,
        world["coordinator"],
        "ntm:matrix_export",
        unit=tree.ha_giang.pk,
        year=2024,
        district=tree.vi_xuyen.pk,
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    codes = [row[3] for row in sheet.iter_rows(values_only=True) if row[0] in (1, 2, 3, 4)]
    assert codes == ["00001", "00002"]
    assert any(row[0] == "Huyện: Huyện Vị Xuyên" for row in sheet.iter_rows(values_only=True))


# --- the scorecard -------------------------------------------------------------------------


def test_a_communes_scorecard_shows_criteria_by_year_and_its_recognition(client, world):
    tree = world["tree"]
    Recognition.objects.create(
        unit=tree.c1,
        criteria_set=world["old"],
        level="standard",
        year=2024,
        decision_number="12/QĐ-UBND",
        decision_date=date(2025, 1, 15),
        issuer="Ủy ban nhân dân tỉnh Hà Giang",
    )
    response = get(client, world["officer"], "ntm:scorecard", args=[tree.c1.pk])
    assert response.status_code == 200
    html = shown(response.content.decode())
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert re.findall(r">(20\d\d)<", head) == ["2021", "2022", "2023", "2024", "2025"]
    rows = re.findall(r'<tr[^>]*><th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)
    cells = {
        name: [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for name, row in rows
    }
    assert cells["2. Thu nhập"] == ["—", "—", "Chưa đạt", "Đạt", "—"]
    assert cells["Số tiêu chí đạt"][2:4] == ["2/3", "3/3"]
    page = text(response)
    assert "12/QĐ-UBND" in page and "15/01/2025" in page
    # the commune it became lies outside the officer's scope: not named to the officer
    assert "Xã Mới Một" not in page
    later = get(client, world["new_coordinator"], "ntm:scorecard", args=[tree.c1.pk])
    assert "Nay thuộc: Xã Mới Một" in text(later)
    # the new commune's scorecard has the 2026–2030 set and comes from Xã Một
    new = get(client, world["new_coordinator"], "ntm:scorecard", args=[tree.n1.pk])
    assert "Bộ tiêu chí thử T-2026-2030" in text(new)
    assert "Hình thành từ: Xã Một" in text(new)


def test_the_commune_officer_reads_only_the_own_communes_scorecard(client, world):
    tree, officer = world["tree"], world["officer"]
    assert get(client, officer, "ntm:scorecard", args=[tree.c2.pk]).status_code == 403
    assert get(client, officer, "ntm:matrix", unit=tree.vi_xuyen.pk).status_code == 403
    # the navigation's link takes a commune officer to the commune's scorecard
    response = get(client, officer, "ntm:matrix")
    assert response.status_code == 302
    assert response["Location"] == reverse("ntm:scorecard", args=[tree.c1.pk])


def test_the_coordinator_sees_the_province_and_the_stranger_nothing_of_it(client, world):
    tree = world["tree"]
    for name, args, params in [
        ("ntm:matrix", (), {"unit": tree.ha_giang.pk}),
        ("ntm:progress", (), {"unit": tree.ha_giang.pk}),
        ("ntm:scorecard", (tree.c3.pk,), {}),
        ("ntm:matrix_export", (), {"unit": tree.ha_giang.pk}),
    ]:
        assert get(client, world["coordinator"], name, args, **params).status_code == 200
        assert get(client, world["stranger"], name, args, **params).status_code == 403
    # the new province's coordinator reads what Hà Giang's communes were assessed
    assert (
        get(client, world["new_coordinator"], "ntm:scorecard", args=[tree.c1.pk]).status_code == 200
    )
    # the stranger's own matrix lists none of Hà Giang's communes
    own = get(client, world["stranger"], "ntm:matrix")
    assert own.status_code == 200 and "Xã Một" not in own.content.decode()


def test_an_agency_officer_is_told_the_account_has_no_area(client, world):
    agency = factories.user("snn.hagiang", world["tree"].agency, Role.AGENCY_OFFICER)
    for name in ("ntm:matrix", "ntm:progress"):
        response = get(client, agency, name)
        assert response.status_code == 200
        assert "không gắn với địa bàn nào" in text(response)
        assert "Xã Một" not in response.content.decode()
    # the province it belongs to is outside its scope
    assert get(client, agency, "ntm:matrix", unit=world["tree"].ha_giang.pk).status_code == 403


def test_the_area_choices_hold_the_provinces_and_the_selected_provinces_districts(client, world):
    tree = world["tree"]
    admin = factories.user("quantri", None, Role.ADMIN)

    def options(**params):
        html = get(client, admin, "ntm:matrix", **params).content.decode()
        select = re.search(r'<select name="unit">(.*?)</select>', html, re.S).group(1)
        return re.findall(r'<option value="\d+"[^>]*>([^(<]+) \(', select)

    assert options(unit=tree.nation.pk, set="T-2021-2025", year=2024) == [
        "Việt Nam",
        "Tỉnh Hà Giang",
    ]
    assert options(unit=tree.ha_giang.pk, year=2024) == [
        "Việt Nam",
        "Tỉnh Hà Giang",
        "Huyện Vị Xuyên",
        "Huyện Bắc Quang",
    ]


def test_the_navigation_links_the_ntm_pages(client, world):
    response = get(client, world["coordinator"], "ntm:matrix")
    nav = re.search(r'<nav class="mainnav".*?</nav>', response.content.decode(), re.S).group(0)
    assert f'href="{reverse("ntm:matrix")}" aria-current="page">Nông thôn mới<' in nav


# --- progress by year ----------------------------------------------------------------------


def progress_rows(response, set_name: str) -> dict[int, list[str]]:
    html = response.content.decode()
    section = html[html.index(f"<h2>{set_name}</h2>") :]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    out = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        year = int(re.search(r"year=(\d{4})", tr).group(1))
        out[year] = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
    return out


def test_progress_by_year_counts_communes_bands_and_the_average(client, world):
    tree = world["tree"]
    response = get(client, world["coordinator"], "ntm:progress", unit=tree.ha_giang.pk)
    rows = progress_rows(response, "Bộ tiêu chí thử T-2021-2025")
    # communes, assessed, met all, %, average, change, bands ×3, recognised
    assert rows[2023] == ["4", "2", "0", "0%", "1", "", "0", "1", "1", "0"]
    assert rows[2024] == ["4", "3", "1", "25%", "1,67", "+0,67", "1", "1", "1", "0"]
    assert rows[2021] == ["4", "0", "0", "", "", "", "0", "0", "0", "0"]
    # Hà Giang ended on 30/06/2025: its 2026-2030 set is not shown
    assert "<h2>Bộ tiêu chí thử T-2026-2030</h2>" not in response.content.decode()


def test_progress_in_todays_tree_adds_the_old_communes_to_the_new_province(client, world):
    tree = world["tree"]
    history = get(client, world["new_coordinator"], "ntm:progress", unit=tree.tuyen_quang.pk)
    rows = progress_rows(history, "Bộ tiêu chí thử T-2026-2030")
    assert rows[2026][:3] == ["3", "1", "0"]
    assert "<h2>Bộ tiêu chí thử T-2021-2025</h2>" in history.content.decode()
    old = progress_rows(history, "Bộ tiêu chí thử T-2021-2025")
    assert old[2024][:2] == ["0", "0"]  # in 2024's tree Tuyên Quang had no commune
    today = get(
        client, world["new_coordinator"], "ntm:progress", unit=tree.tuyen_quang.pk, ngay=TODAY
    )
    rows = progress_rows(today, "Bộ tiêu chí thử T-2021-2025")
    assert rows[2024][:4] == ["4", "3", "1", "25%"]


def test_progress_queries_do_not_grow_with_the_years(world):
    tree = world["tree"]
    with CaptureQueriesContext(connection) as queries:
        q.progress(tree.ha_giang, world["old"])
    assert len(queries) <= 5


# --- set-based: the number of queries does not grow with the communes ---------------------


def _more_communes(tree, cs, n: int) -> None:
    for i in range(n):
        unit = factories.unit(
            f"09{i:03d}",
            f"Xã Thêm {i}",
            UnitKind.COMMUNE,
            Level.COMMUNE,
            tree.bac_quang,
            valid_to=tree.bac_quang.valid_to,
        )
        setattr(tree, f"extra{i}", unit)
    assess(tree, cs, 2024, {f"extra{i}": {1: True, 2: i % 2 == 0, 3: True} for i in range(n)})


def test_the_matrix_page_reads_a_fixed_number_of_queries_whatever_the_communes(client, world):
    tree, user = world["tree"], world["coordinator"]
    client.force_login(user)
    url = reverse("ntm:matrix")
    params = {"unit": tree.ha_giang.pk, "year": 2024}
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    _more_communes(tree, world["old"], 30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert len(matrix_rows(response)) == 34
    assert len(many) == len(few), [x["sql"] for x in many]
    assert Unit.objects.filter(name__startswith="Xã Thêm").count() == 30


def test_the_matrix_pages_beyond_a_hundred_communes(client, world):
    tree, user = world["tree"], world["coordinator"]
    _more_communes(tree, world["old"], 101)
    first = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2024)
    assert len(matrix_rows(first)) == 100 and "Trang 1/2" in text(first)
    second = get(client, user, "ntm:matrix", unit=tree.ha_giang.pk, year=2024, page=2)
    assert len(matrix_rows(second)) == 5
    assert "Số xã 105 " in text(second)


# --- English -------------------------------------------------------------------------------


def test_the_pages_read_in_english_through_the_catalogue(client, world):
    tree, user = world["tree"], world["coordinator"]
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    matrix_page = client.get(reverse("ntm:matrix"), {"unit": tree.ha_giang.pk, "year": 2024})
    html = matrix_page.content.decode()
    assert "<h1>New rural development criteria matrix</h1>" in html
    assert 'ntm-met">Met<' in html and 'ntm-unmet">Not met<' in html
    card = client.get(reverse("ntm:scorecard", args=[tree.c1.pk])).content.decode()
    assert "New rural development criteria — Xã Một" in card
    progress = client.get(reverse("ntm:progress"), {"unit": tree.ha_giang.pk}).content.decode()
    assert "Meeting every criterion" in progress and "Change on the year before" in progress
