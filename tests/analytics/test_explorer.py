"""The pivot explorer (``analytics:explorer``): its figures are `tiendo pivot`'s, its totals
the engine's own aggregates (never a sum of the rows), its limits say so, bad queries get
messages, the exports hold numbers, and only the units in scope can be named."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.http import QueryDict
from django.urls import reverse

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.analytics import explorer
from tiendo.data.pivot import pivot
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Aggregation, CategoryOption, Disaggregation
from tiendo.units.models import Level, UnitKind

URL = reverse("analytics:explorer")


def put(indicator, unit, period, value, category=""):
    save_value(Entry(indicator, unit, period, D(value), category))


@pytest.fixture
def world(tree):
    prog = factories.programme("P1", "Chương trình thử")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    hh = factories.indicator(prog, "HH", name="Số hộ tham gia")
    stock = factories.indicator(prog, "STOCK", Aggregation.LAST, name="Số hộ lũy kế")
    avg = factories.indicator(
        prog, "AVG", Aggregation.AVERAGE, "%", name="Tỷ lệ bình quân", decimals=1
    )
    money = factories.indicator(
        prog, "VON", name="Vốn giải ngân", measure_unit="triệu đồng", disaggregation=source
    )
    put(hh, tree.c1, "2021", 10)
    put(hh, tree.c2, "2021", 5)
    put(hh, tree.c3, "2022", 7)
    # a stock the communes report at different dates
    put(stock, tree.c1, "2021", 100)
    put(stock, tree.c1, "2023", 120)
    put(stock, tree.c3, "2022", 50)
    put(avg, tree.c1, "2021", "2.5")
    put(avg, tree.c2, "2021", "3.5")
    put(avg, tree.c3, "2022", 4)
    put(money, tree.c1, "2022", 300, "TW")
    put(money, tree.c3, "2022", 200, "DP")
    people = {
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "new_coordinator": factories.user("bcd.tuyenquang", tree.tuyen_quang, Role.COORDINATOR),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }
    return {"tree": tree, "hh": hh, "stock": stock, "avg": avg, "money": money, **people}


def query(**params) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, list):
            q.setlist(key, [str(v) for v in value])
        else:
            q[key] = str(value)
    return q


def spec_of(user, **params) -> explorer.Spec:
    return explorer.parse_query(query(**params), user, this_year=2025)


def values(table, line) -> list:
    return [None if c is None else c.value for c in line.cells]


def find(lines, label):
    return next(line for line in lines if line.members[0].label == label)


def test_the_table_holds_the_figures_of_tiendo_pivot(world):
    tree = world["tree"]
    spec = spec_of(
        world["coordinator"],
        chi_tieu=["HH", "STOCK", "AVG", "VON"],
        don_vi=tree.ha_giang.pk,
        ky_tu=2021,
        ky_den=2023,
        hang="indicator",
        cot="period",
    )
    assert not spec.errors
    table = explorer.build_table(spec)
    assert [c.label for c in table.columns][-1] == "Tổng (Giai đoạn 2021–2023)"
    for index, column in enumerate(table.columns):
        rows, _aggregator = pivot(tree.ha_giang, column.item, with_empty=True)
        expected = {r.indicator.code: r.cell.value for r in rows}
        for line in table.lines:
            code = line.indicator().code
            assert line.cells[index].value == expected[code], (code, column.label)
    stock = find(table.lines, "Số hộ lũy kế (hộ)")
    assert values(table, stock) == [D(100), D(150), D(170), D(170)]
    assert stock.texts() == ["100", "150", "170", "170"]


def test_totals_of_last_and_average_indicators_are_aggregates_not_sums(world):
    tree = world["tree"]
    spec = spec_of(
        world["coordinator"],
        chi_tieu=["STOCK", "AVG"],
        don_vi=tree.ha_giang.pk,
        cap=Level.DISTRICT,
        ky_tu=2021,
        ky_den=2023,
        hang="unit",
        cot="period",
    )
    table = explorer.build_table(spec)
    assert [m.label for m in table.columns] == [
        "Năm 2021",
        "Năm 2022",
        "Năm 2023",
        "Tổng (Giai đoạn 2021–2023)",
    ]
    vx_stock = next(
        line
        for line in table.lines
        if line.members[0].item == tree.vi_xuyen and line.members[1].item.code == "STOCK"
    )
    # the stock of the whole range is the latest value (120), not 100 + 100 + 120
    assert values(table, vx_stock) == [D(100), D(100), D(120), D(120)]
    total_avg = next(line for line in table.totals if line.members[1].item.code == "AVG")
    # the province's mean of its three values, not the districts' means added (3 + 4)
    assert total_avg.members[0].label == "Tổng (Tỉnh Hà Giang)"
    assert values(table, total_avg)[0] == D(3)
    assert values(table, total_avg)[-1].quantize(Decimal("0.001")) == Decimal("3.333")
    total_stock = next(line for line in table.totals if line.members[1].item.code == "STOCK")
    assert values(table, total_stock) == [D(100), D(150), D(170), D(170)]


def test_categories_are_sub_rows_of_a_disaggregated_indicator(world):
    tree = world["tree"]
    spec = spec_of(
        world["coordinator"],
        chi_tieu=["VON"],
        don_vi=tree.ha_giang.pk,
        ky_tu=2022,
        ky_den=2022,
        hang="indicator",
        cot="unit",
        cap=Level.DISTRICT,
        phan_to=1,
    )
    table = explorer.build_table(spec)
    (line,) = table.lines
    assert [s.category_name for s in line.sub] == ["Trung ương", "Địa phương"]
    labels = [c.label for c in table.columns]
    assert labels[:2] == ["Huyện Vị Xuyên", "Huyện Bắc Quang"] and labels[-1].startswith("Tổng")
    assert line.sub[0].texts()[0] == "300" and line.sub[1].texts()[1] == "200"
    assert line.sub[0].texts()[-1] == "300" and line.texts()[-1] == "500"


def test_todays_tree_maps_the_old_communes_into_the_new(world):
    tree = world["tree"]
    params = dict(chi_tieu="HH", don_vi=tree.tuyen_quang.pk, cap=Level.COMMUNE, ky_tu=2021)
    params.update(ky_den=2021, hang="unit", cot="period")
    history = explorer.build_table(spec_of(world["new_coordinator"], **params))
    assert [line.members[0].item for line in history.lines] == []  # none existed in 2021
    today = explorer.build_table(spec_of(world["new_coordinator"], hom_nay=1, **params))
    n1 = find(today.lines, "Xã Mới Một")
    assert values(today, n1) == [D(10)]
    # an old unit asked for in today's tree is replaced by the unit it became
    params["don_vi"] = tree.ha_giang.pk
    spec = spec_of(world["new_coordinator"], hom_nay=1, **params)
    assert spec.unit == tree.tuyen_quang
    assert any("nay thuộc Tỉnh Tuyên Quang" in note for note in spec.notes)


def test_the_caps_refuse_with_a_message(world):
    tree, user = world["tree"], world["coordinator"]
    many = [f"X{n}" for n in range(21)]
    assert "nhiều nhất 20 chỉ tiêu" in spec_of(user, chi_tieu=many).errors[0]
    months = spec_of(user, chi_tieu="HH", ky_tu=2021, ky_den=2025, loai="month")
    assert months.errors == [
        "Bảng có 60 kỳ, quá 40 kỳ; hãy thu hẹp khoảng năm hoặc chọn kỳ dài hơn."
    ]
    for n in range(201):
        factories.unit(f"9{n:04d}", f"Xã {n}", UnitKind.COMMUNE, Level.COMMUNE, tree.vi_xuyen)
    crowded = spec_of(user, chi_tieu="HH", don_vi=tree.ha_giang.pk, cap=Level.COMMUNE)
    assert "có 205 đơn vị cấp xã, quá 200" in crowded.errors[0]


def test_a_large_table_is_paged_and_says_so(world, client):
    tree, user = world["tree"], world["coordinator"]
    for n in range(60):
        factories.unit(f"9{n:04d}", f"Xã {n:02d}", UnitKind.COMMUNE, Level.COMMUNE, tree.vi_xuyen)
    params = dict(chi_tieu="HH", don_vi=tree.vi_xuyen.pk, cap=Level.COMMUNE, ky_tu=2021)
    params.update(ky_den=2023, loai="month", hang="unit", cot="period")
    table = explorer.build_table(spec_of(user, **params))
    # 62 communes and the total, 36 months and the total
    assert table.cell_count == 63 * 37 and len(table.lines) == 50
    assert table.totals and table.page.paginator.num_pages == 2
    client.force_login(user)
    response = client.get(URL, params | {"trang": 2})
    text = response.content.decode()
    assert "chia trang, 50 dòng một trang (trang 2/2)" in text
    assert response.context["table"].lines[-1].members[0].label == "Xã 59"
    export = client.get(URL, params | {"xuat": "csv"}).content.decode("utf-8-sig")
    assert len(export.splitlines()) == 2 + 1 + 62 + 1  # title lines, header, rows, total


@pytest.mark.parametrize(
    "params, message",
    [
        ({"chi_tieu": "NOPE"}, "Không có chỉ tiêu mã “NOPE”"),
        ({"chi_tieu": "HỘ"}, "mã “HỘ” không hợp lệ"),
        ({"chi_tieu": "HH", "don_vi": "abc"}, "“don_vi”: “abc” không phải số nguyên"),
        ({"chi_tieu": "HH", "don_vi": "9" * 40}, "“don_vi”: “99999999999999999999…”"),
        ({"chi_tieu": "HH", "don_vi": "2147483000"}, "không có đơn vị số 2147483000"),
        ({"chi_tieu": "HH", "ky_tu": "99999999"}, "“ky_tu”: “99999999” không phải số nguyên"),
        ({"chi_tieu": "HH", "ky_tu": "2025", "ky_den": "2021"}, "Năm đầu (“ky_tu”)"),
        ({"chi_tieu": "HH", "cap": "9"}, "“cap”: “9” không phải số nguyên từ 0 đến 3"),
        ({"chi_tieu": "HH", "loai": "tuần"}, "“loai”: “tuần” không phải một trong"),
        ({"chi_tieu": "HH", "hang": "period", "cot": "period"}, "hai chiều khác nhau"),
        ({"don_vi": "1"}, "Chọn ít nhất một chỉ tiêu."),
    ],
)
def test_bad_queries_get_messages_never_a_server_error(world, client, params, message):
    client.force_login(world["coordinator"])
    response = client.get(URL, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["table"] is None
    exported = client.get(URL, params | {"xuat": "xlsx"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/html")


def export_params(tree):
    return {
        "chi_tieu": ["HH", "AVG"],
        "don_vi": tree.ha_giang.pk,
        "cap": Level.DISTRICT,
        "ky_tu": 2021,
        "ky_den": 2022,
        "hang": "unit",
        "cot": "period",
    }


def test_the_excel_export_holds_the_numbers_as_numbers(world, client):
    client.force_login(world["coordinator"])
    response = client.get(URL, export_params(world["tree"]) | {"xuat": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="phan-tich.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = {(r[0].value, r[1].value): r for r in sheet.iter_rows(min_row=4)}
    header = [c.value for c in next(sheet.iter_rows(min_row=3, max_row=3))]
    assert header == ["Đơn vị", "Chỉ tiêu", "Năm 2021", "Năm 2022", "Tổng (Giai đoạn 2021–2022)"]
    vx = rows[("Huyện Vị Xuyên", "Số hộ tham gia (hộ)")]
    assert [c.value for c in vx[2:]] == [15, None, 15] and vx[2].number_format == "#,##0"
    avg = rows[("Tổng (Tỉnh Hà Giang)", "Tỷ lệ bình quân (%)")]
    assert avg[2].value == 3 and avg[2].number_format == "#,##0.0"
    assert isinstance(avg[4].value, float) and round(avg[4].value, 4) == 3.3333


def test_the_csv_export_is_the_same_table(world, client):
    client.force_login(world["coordinator"])
    response = client.get(URL, export_params(world["tree"]) | {"xuat": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    by_label = {(line[0], line[1]): line[2:] for line in lines[3:]}
    assert by_label[("Huyện Bắc Quang", "Số hộ tham gia (hộ)")] == ["", "7", "7"]
    assert by_label[("Tổng (Tỉnh Hà Giang)", "Tỷ lệ bình quân (%)")] == ["3,0", "4,0", "3,3"]


def test_the_page_shows_the_table_the_share_link_and_the_exports(world, client):
    client.force_login(world["coordinator"])
    params = export_params(world["tree"])
    text = client.get(URL, params).content.decode()
    assert "Tổng (Tỉnh Hà Giang)" in text and "3,3" in text
    assert 'id="explorer-share"' in text and "chi_tieu=HH&amp;chi_tieu=AVG" in text
    assert "xuat=xlsx" in text and "xuat=csv" in text
    assert 'class="table-scroll"' in text
    # an empty query shows the form, with no complaint
    empty = client.get(URL).content.decode()
    assert "explorer-form" in empty and "Chưa lập được bảng" not in empty
    assert reverse("analytics:explorer") in client.get(reverse("home")).content.decode()


# -- access ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page(client, world):
    response = client.get(URL, {"chi_tieu": "HH"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_another_province_cannot_name_ha_giangs_units(client, world):
    client.force_login(world["stranger"])
    tree = world["tree"]
    for unit in (tree.ha_giang, tree.c1):
        response = client.get(URL, {"chi_tieu": "HH", "don_vi": unit.pk, "ky_tu": 2021})
        text = response.content.decode()
        assert response.status_code == 200 and response.context["table"] is None
        assert f"không có đơn vị số {unit.pk} trong phạm vi bạn xem" in text
        assert not [s for s in ("Hà Giang", "Xã Một", "Huyện Vị Xuyên") if s in text]
    exported = client.get(URL, {"chi_tieu": "HH", "don_vi": tree.ha_giang.pk, "xuat": "csv"})
    assert exported["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("persona", ["leader", "officer", "coordinator"])
def test_readers_of_the_unit_see_the_table(client, world, persona):
    client.force_login(world[persona])
    response = client.get(URL, {"chi_tieu": "HH", "ky_tu": 2021, "ky_den": 2021})
    assert response.status_code == 200
    table = response.context["table"]
    assert table is not None and table.lines[0].cells[0].value == (
        D(10) if persona == "officer" else D(15)
    )


def test_one_aggregator_a_period_computes_every_unit_of_the_table(world, monkeypatch):
    tree = world["tree"]
    made = []

    class Counted(explorer.Aggregator):
        def for_units(self, units, **kw):
            made.append((self.period.id, len(list(units))))
            return super().for_units(units, **kw)

    monkeypatch.setattr(explorer, "Aggregator", Counted)
    spec = spec_of(
        world["coordinator"],
        chi_tieu=["HH", "STOCK", "AVG"],
        don_vi=tree.ha_giang.pk,
        cap=Level.COMMUNE,
        ky_tu=2021,
        ky_den=2023,
    )
    explorer.build_table(spec)
    # three years and the range, each over the four communes and the province
    assert made == [("2021", 5), ("2022", 5), ("2023", 5), ("2021-2023", 5)]


def test_an_account_without_a_unit_is_asked_for_one(world):
    from tiendo.accounts.models import User

    nobody = User.objects.create_user(username="khong.don.vi", password="x", role=Role.LEADER)
    spec = spec_of(nobody, chi_tieu="HH")
    assert any("Chọn một đơn vị" in e for e in spec.errors)
