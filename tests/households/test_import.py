"""The Excel import of household lists: the dry run's messages, duplicates, legacy text,
the caps, all-or-nothing writing, and the pages (upload → job → result → confirm) with
their access rules."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from openpyxl import Workbook, load_workbook

from tests import factories, hostile
from tiendo.accounts.models import Role
from tiendo.core.jobs import run_job
from tiendo.core.legacy_encoding import encode_tcvn3, encode_vni
from tiendo.core.models import Job, JobStatus
from tiendo.core.uploads import UploadError
from tiendo.households import crypto, events, importing
from tiendo.households.importing import HouseholdImportError
from tiendo.households.models import Household, Loan, Plot, RecordChange

HEAD = ["Mã hộ", "Họ tên chủ hộ", "Năm sinh", "Giới tính", "Dân tộc", "Số CCCD", "Thôn"]
LOAN_HEAD = [
    "mã hộ",
    "mã chương trình",
    "số tiền vay (triệu đồng)",
    "ngày giải ngân",
    "thời hạn (tháng)",
]
PLOT_HEAD = ["mã hộ", "cây trồng", "diện tích (ha)", "vườn hộ"]


def cccd(n: int, year: int = 1985, female: bool = False) -> str:
    """A well-formed ID number: Hà Giang (002), the century-and-sex digit, the year."""
    return f"002{1 if female else 0}{year % 100:02d}{n:06d}"


def row(code, name="Nguyễn Văn An", year=1985, sex="Nam", number=None, **kw):
    return [code, name, year, sex, kw.get("ethnicity", "Tày"), number or "", kw.get("village", "")]


def xlsx(households, loans=None, plots=None, head=HEAD) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hộ"
    sheet.append(head)
    for values in households:
        sheet.append(values)
    for title, header, rows in (("Khoản vay", LOAN_HEAD, loans), ("Thửa đất", PLOT_HEAD, plots)):
        if rows is not None:
            extra = workbook.create_sheet(title)
            extra.append(header)
            for values in rows:
                extra.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def world(tree):
    prog = factories.programme("P1")
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    return tree, prog, officer


def good_file():
    return xlsx(
        [
            row("H1", number=cccd(1)),
            row("H2", "Lò Thị Bình", 1990, "Nữ", cccd(2, 1990, female=True), village="Nà Thác"),
            row("H3", "Vàng Seo Chử", 1970, "nam"),
        ],
        loans=[["H1", "P1", 50, date(2024, 3, 15), 36], ["H2", "P1", "30,5", "01/02/2023", 24]],
        plots=[["H1", "Cam sành", "0,5", "không"], ["H3", "Chè", 1.25, "có"]],
    )


def test_a_good_file_is_checked_then_written_all_at_once(world, monkeypatch):
    tree, prog, officer = world
    calls = []
    monkeypatch.setattr(events, "_HOOKS", [lambda ids, **kw: calls.append((ids, kw))])
    plan = importing.check(good_file(), "ho.xlsx", tree.c1, user=officer)
    assert plan.valid, [str(p) for p in plan.errors]
    assert (len(plan.households), len(plan.loans), len(plan.plots)) == (3, 2, 2)
    assert Household.objects.count() == 0  # the dry run writes nothing
    counts = importing.write(plan, user=officer)
    assert counts == {"households": 3, "loans": 2, "plots": 2, "units": [tree.c1.pk]}
    h1 = Household.objects.get(code="H1")
    assert (h1.head_name, h1.head_birth_year, h1.head_sex, h1.unit) == (
        "Nguyễn Văn An",
        1985,
        "M",
        tree.c1,
    )
    assert h1.head_id() == cccd(1) and h1.head_id_index == crypto.blind_index(cccd(1))
    assert cccd(1) not in h1.head_id_encrypted
    assert Household.objects.get(code="H2").village == "Nà Thác"
    assert Household.objects.get(code="H3").head_id_encrypted == ""
    loan = Loan.objects.get(household__code="H2")
    assert (loan.amount, loan.disbursed_on, loan.term_months, loan.programme) == (
        Decimal("30.5"),
        date(2023, 2, 1),
        24,
        prog,
    )
    plot = Plot.objects.get(household__code="H3")
    assert (plot.area_ha, plot.is_garden, plot.land_unit) == (Decimal("1.25"), True, tree.c1)
    changes = RecordChange.objects.filter(source="import", field="*", old="")
    assert changes.count() == 7
    assert set(changes.values_list("record", flat=True)) == {"household", "loan", "plot"}
    assert set(changes.values_list("changed_by", flat=True)) == {officer.pk}
    # events.changed once, for the commune, marked as an import
    assert calls == [({tree.c1.pk}, {"user": officer, "source": "import"})]


def test_an_id_number_typed_as_a_number_gets_its_leading_zeros_back(world):
    tree, _prog, officer = world
    plan = importing.check(xlsx([row("H1", number=int(cccd(7)))]), "x.xlsx", tree.c1, user=officer)
    assert plan.valid and plan.households[0]["id_number"] == cccd(7)


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        (row("", number=cccd(1)), "mã hộ", "ô này không được để trống."),
        (row("H 1"), "mã hộ", "không có dấu cách"),
        (row("H1", name=""), "họ tên chủ hộ", "ô này không được để trống."),
        (row("H1", year="năm"), "năm sinh", "“năm” không phải một số."),
        (row("H1", year=1850), "năm sinh", "phải trong khoảng 1900–"),
        (row("H1", year=1985.5), "năm sinh", "phải là số nguyên."),
        (row("H1", sex="khác"), "giới tính", "ghi “Nam” hoặc “Nữ”."),
        (row("H1", number="00208501234"), "số CCCD", "phải có 12 chữ số"),
        (row("H1", year=1990, number=cccd(1)), "số CCCD", "Năm sinh 1990 không khớp"),
        (row("H1", name="x" * 201), "họ tên chủ hộ", "dài quá 200 ký tự."),
    ],
)
def test_each_bad_household_cell_is_named_by_sheet_row_and_column(world, values, column, message):
    tree, _prog, officer = world
    plan = importing.check(xlsx([row("H0"), values]), "x.xlsx", tree.c1, user=officer)
    assert not plan.valid
    [problem] = plan.errors
    assert (problem.sheet, problem.row, problem.column) == ("households", 3, column)
    assert message in problem.message
    assert str(problem).startswith(f"Trang “Hộ”, dòng 3, cột “{column}”: ")


@pytest.mark.parametrize(
    ("loan", "column", "message"),
    [
        (["H9", "P1", 50, "15/03/2024", 36], "mã hộ", "mã hộ H9 không có trong trang “Hộ”"),
        (["H1", "P9", 50, "15/03/2024", 36], "mã chương trình", "không có chương trình mã P9."),
        (["H1", "P1", -5, "15/03/2024", 36], "số tiền vay (triệu đồng)", "không được âm."),
        (["H1", "P1", 50, "15 tháng 3", 36], "ngày giải ngân", "ngày/tháng/năm"),
        (["H1", "P1", 50, "15/03/2024", None], "thời hạn (tháng)", "không được để trống"),
        (["H1", "P1", "1,2345", "15/03/2024", 36], "số tiền vay (triệu đồng)", "quá 3 chữ số"),
    ],
)
def test_each_bad_loan_cell_is_named(world, loan, column, message):
    tree, _prog, officer = world
    plan = importing.check(xlsx([row("H1")], loans=[loan]), "x.xlsx", tree.c1, user=officer)
    [problem] = plan.errors
    assert (problem.sheet, problem.row, problem.column) == ("loans", 2, column)
    assert message in problem.message


def test_bad_plot_cells_are_named(world):
    tree, _prog, officer = world
    plots = [["H1", "", 1, "không"], ["H1", "Cam", "nửa", "có"], ["H1", "Cam", 1, "hay"]]
    plan = importing.check(xlsx([row("H1")], plots=plots), "x.xlsx", tree.c1, user=officer)
    assert [(p.sheet, p.row, p.column) for p in plan.errors] == [
        ("plots", 2, "cây trồng"),
        ("plots", 3, "diện tích (ha)"),
        ("plots", 4, "vườn hộ"),
    ]


def test_a_missing_column_refuses_the_file(world):
    tree, _prog, officer = world
    data = xlsx([["H1", "An", 1985]], head=["Mã hộ", "Họ tên chủ hộ", "Năm sinh"])
    with pytest.raises(HouseholdImportError, match="thiếu cột “giới tính”"):
        importing.check(data, "x.xlsx", tree.c1, user=officer)


def test_duplicates_in_the_file(world):
    tree, _prog, officer = world
    data = xlsx(
        [
            row("H1", number=cccd(1)),
            row("H1", "Lò Văn Hai", number=cccd(2)),  # same code
            row("H3", "Lò Văn Ba", number=cccd(1)),  # same ID number as row 2
            row("H4"),  # same head's name and birth year as row 2: a warning
        ]
    )
    plan = importing.check(data, "x.xlsx", tree.c1, user=officer)
    assert [(p.row, p.column, p.message) for p in plan.errors] == [
        (3, "mã hộ", "mã hộ H1 trùng với dòng 2."),
        (4, "số CCCD", "số căn cước trùng với dòng 2."),
    ]
    assert [(w.row, "dòng 2" in w.message) for w in plan.warnings] == [(5, True)]


def test_duplicates_against_the_register(world):
    tree, _prog, officer = world
    here = Household(unit=tree.c1, code="H1", head_name="Nguyễn Văn An", head_birth_year=1985)
    here.head_sex = "M"
    here.set_head_id(cccd(1))
    here.save()
    elsewhere = Household(unit=tree.other_commune, code="Q1", head_name="Lò Văn Tư")
    elsewhere.head_birth_year, elsewhere.head_sex = 1985, "M"
    elsewhere.set_head_id(cccd(4))
    elsewhere.save()
    data = xlsx(
        [
            row("H1", "Lò Văn Hai", number=cccd(2)),
            row("H5", "Lò Văn Năm", number=cccd(1)),
            row("H6", "Lò Văn Sáu", number=cccd(4)),
            row("H7", "Nguyễn Văn An"),
        ]
    )
    plan = importing.check(data, "x.xlsx", tree.c1, user=officer)
    assert [(p.row, p.message) for p in plan.errors] == [
        (2, "mã hộ H1 đã có trong sổ hộ của xã."),
        (3, "số căn cước đã có trong sổ hộ (hộ H1, Xã Một)."),
        # another province's household: the officer learns only that it exists
        (4, "số căn cước đã có trong sổ hộ của một xã khác."),
    ]
    assert [w.row for w in plan.warnings] == [5]
    with pytest.raises(HouseholdImportError):
        importing.write(plan, user=officer)
    assert Household.objects.count() == 2


def test_tcvn3_and_vni_text_is_converted_to_unicode(world):
    tree, _prog, officer = world
    data = xlsx(
        [
            row(
                "H1",
                encode_tcvn3("Nguyễn Thị Hương"),
                1985,
                "Nữ",
                village=encode_tcvn3("Bản Giàng"),
            ),
            row("H2", encode_vni("Hoàng Văn Tuyên"), 1990, "Nam"),
        ]
    )
    assert encode_tcvn3("Nguyễn Thị Hương") != "Nguyễn Thị Hương"
    plan = importing.check(data, "x.xlsx", tree.c1, user=officer)
    assert plan.valid and plan.converted == 3
    importing.write(plan, user=officer)
    assert sorted(Household.objects.values_list("head_name", flat=True)) == [
        "Hoàng Văn Tuyên",
        "Nguyễn Thị Hương",
    ]
    assert Household.objects.get(code="H1").village == "Bản Giàng"


def test_a_province_list_names_each_households_commune(world):
    tree, _prog, officer = world
    head = ["mã xã", *HEAD]
    data = xlsx(
        [["00001", *row("H1")], ["00003", *row("H1", "Lò Văn Hai")], ["", *row("H2")]], head=head
    )
    plan = importing.check(data, "x.xlsx", tree.ha_giang, user=officer)
    assert [(p.row, p.column) for p in plan.errors] == [(4, "mã xã")]
    assert {h["unit_id"] for h in plan.households} == {tree.c1.pk, tree.c3.pk}
    data = xlsx([["99999", *row("H1")]], head=head)
    [problem] = importing.check(data, "x.xlsx", tree.ha_giang, user=officer).errors
    assert problem.message == "không có xã mã 99999 trong Tỉnh Hà Giang."


def test_nothing_is_half_saved_when_a_step_fails(world, monkeypatch):
    tree, _prog, officer = world

    def broken(ids, **kw):
        raise RuntimeError("figures could not be computed")

    monkeypatch.setattr(events, "_HOOKS", [broken])
    plan = importing.check(good_file(), "ho.xlsx", tree.c1, user=officer)
    with pytest.raises(RuntimeError):
        importing.write(plan, user=officer)
    assert (Household.objects.count(), Loan.objects.count(), RecordChange.objects.count()) == (
        0,
        0,
        0,
    )


def test_too_many_rows_are_refused_before_and_while_reading(world, settings):
    tree, _prog, officer = world
    settings.HOUSEHOLD_IMPORT_MAX_ROWS = 3  # and a header and ten blank rows
    data = xlsx([row(f"H{i}") for i in range(14)])
    with pytest.raises(HouseholdImportError, match="Một trang của tệp “x.xlsx” có hơn 3 dòng"):
        importing.check(data, "x.xlsx", tree.c1, user=officer)
    # a sheet declaring one row and holding ten is counted as it is read
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = archive.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:G15"/>' in part
    part = part.replace(b'<dimension ref="A1:G15"/>', b'<dimension ref="A1:G1"/>')
    understated = hostile.replace_members(data, {"xl/worksheets/sheet1.xml": part})
    with pytest.raises(HouseholdImportError, match="Một trang của tệp “x.xlsx” có hơn 3 dòng"):
        importing.check(understated, "x.xlsx", tree.c1, user=officer)


def test_a_file_that_is_not_xlsx_is_refused(world):
    tree, _prog, officer = world
    with pytest.raises(HouseholdImportError, match="không phải bảng tính Excel"):
        importing.check(b"a,b\n1,2\n", "ho.csv", tree.c1, user=officer)
    with pytest.raises(UploadError, match="không mở được dạng nén zip"):
        importing.check(b"not a zip at all", "ho.xlsx", tree.c1, user=officer)


def test_a_zip_bomb_is_refused_before_openpyxl_sees_it(world, settings):
    tree, _prog, officer = world
    settings.HOUSEHOLD_IMPORT_MAX_UNPACKED_BYTES = 20 * hostile.MB
    zeros = hostile.zeros(64 * hostile.MB)
    bomb = hostile.replace_members(xlsx([row("H1")]), {}, {"xl/sharedStrings.xml": zeros})
    with pytest.raises(UploadError, match="giải nén"):
        importing.check(bomb, "ho.xlsx", tree.c1, user=officer)


def test_an_xml_entity_declaration_is_refused(world):
    tree, _prog, officer = world
    data = xlsx([row("H1")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = archive.read("xl/workbook.xml")
    poisoned = hostile.replace_members(data, {"xl/workbook.xml": hostile.LAUGHS.encode() + part})
    with pytest.raises(UploadError, match="DOCTYPE/ENTITY"):
        importing.check(poisoned, "ho.xlsx", tree.c1, user=officer)


def test_the_template_has_the_headers_and_an_example_that_imports(world):
    tree, _prog, officer = world
    data = importing.template(with_commune=False)
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Hộ", "Khoản vay", "Thửa đất"]
    assert next(workbook["Hộ"].iter_rows(values_only=True))[:4] == (
        "mã hộ*",
        "họ tên chủ hộ*",
        "năm sinh*",
        "giới tính*",
    )
    plan = importing.check(data, "mau.xlsx", tree.c1, user=officer)
    assert plan.valid, [str(p) for p in plan.errors]
    assert (len(plan.households), len(plan.loans), len(plan.plots)) == (1, 1, 1)
    head = next(load_workbook(io.BytesIO(importing.template(with_commune=True)))["Hộ"].values)
    assert head[0] == "mã xã"


# --- the pages -----------------------------------------------------------------------------


def upload(client, unit, data, name="ho.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(f"/ho-gia-dinh/nhap-excel/{unit.pk}/", {"file": file})


def run_queued():
    """Run the queued jobs here, as the worker would (the real worker: test_jobs.py)."""
    for job in Job.objects.filter(status=JobStatus.QUEUED).order_by("pk"):
        run_job.call(job.pk)


def test_upload_check_confirm_import_through_the_pages(world, client):
    tree, _prog, officer = world
    client.force_login(officer)
    assert client.get(f"/ho-gia-dinh/nhap-excel/{tree.c1.pk}/").status_code == 200
    response = upload(client, tree.c1, good_file())
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/"
    assert (job.kind, job.status, job.started_by, job.unit) == (
        importing.CHECK_JOB,
        JobStatus.QUEUED,
        officer,
        tree.c1,
    )
    assert b"Nguy" not in bytes(job.upload)  # kept encrypted
    page = client.get(response.url)
    assert page.status_code == 200 and b"<progress" in page.content and b"hx-get" in page.content
    run_queued()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["households"] == 3
    poll = client.get(f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/", headers={"HX-Request": "true"})
    assert poll["HX-Redirect"] == f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/ket-qua/"
    result = client.get(poll["HX-Redirect"])
    assert "Nhập vào sổ hộ" in result.content.decode()
    assert Household.objects.count() == 0
    confirm = client.post(f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/nhap/")
    # a second click (a stale page) does not start a second import
    again = client.post(f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/nhap/")
    assert again.status_code == 403 or again.url == confirm.url
    assert Job.objects.filter(kind=importing.IMPORT_JOB).count() == 1
    run_queued()
    imported = Job.objects.get(kind=importing.IMPORT_JOB)
    assert imported.status == JobStatus.SUCCEEDED, imported.message
    assert (imported.done, imported.total) == (7, 7)
    assert Household.objects.count() == 3
    job.refresh_from_db()
    assert bytes(job.upload) == b""  # the file is erased once imported
    text = client.get(f"/ho-gia-dinh/nhap-excel/viec/{imported.pk}/ket-qua/").content.decode()
    assert "Đã nhập vào sổ hộ." in text


def test_a_file_with_errors_shows_them_and_cannot_be_confirmed(world, client):
    tree, _prog, officer = world
    client.force_login(officer)
    upload(client, tree.c1, xlsx([row("H1", sex="?")]))
    run_queued()
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and bytes(job.upload) == b""
    text = client.get(f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/ket-qua/").content.decode()
    assert "Tệp có 1 lỗi" in text and "giới tính" in text and "Nhập vào sổ hộ</button>" not in text
    assert client.post(f"/ho-gia-dinh/nhap-excel/viec/{job.pk}/nhap/").status_code == 403


def test_the_register_changed_since_the_dry_run(world, client):
    tree, _prog, officer = world
    client.force_login(officer)
    upload(client, tree.c1, good_file())
    run_queued()
    check_job = Job.objects.get()
    Household.objects.create(
        unit=tree.c1, code="H2", head_name="Người khác", head_birth_year=1960, head_sex="M"
    )
    client.post(f"/ho-gia-dinh/nhap-excel/viec/{check_job.pk}/nhap/")
    run_queued()
    imported = Job.objects.get(kind=importing.IMPORT_JOB)
    assert imported.status == JobStatus.FAILED
    assert "Sổ hộ đã thay đổi" in imported.message
    assert imported.errors[0]["message"] == "mã hộ H2 đã có trong sổ hộ của xã."
    assert Household.objects.count() == 1


def test_refusals_in_the_request(world, client, settings):
    tree, _prog, officer = world
    client.force_login(officer)
    response = upload(client, tree.c1, b"a;b\n", name="ho.csv")
    assert response.status_code == 400 and "không phải bảng tính Excel" in response.content.decode()
    settings.UPLOAD_MAX_BYTES = 1000
    response = upload(client, tree.c1, good_file())
    assert response.status_code == 400 and "lớn hơn" in response.content.decode()
    assert not Job.objects.exists()


def test_template_download(world, client):
    tree, _prog, officer = world
    client.force_login(officer)
    response = client.get(f"/ho-gia-dinh/nhap-excel/{tree.c1.pk}/mau.xlsx")
    assert response.status_code == 200 and response["Content-Type"].endswith("sheet")
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "Hộ"


@pytest.fixture
def people(world):
    tree, _prog, officer = world
    return {
        "officer": officer,
        "other_officer": factories.user("xa.hai", tree.c2, Role.COMMUNE_OFFICER),
        "coordinator": factories.user("bcd.hg", tree.ha_giang, Role.COORDINATOR),
        "stranger": factories.user("bcd.qt", tree.other_province, Role.COORDINATOR),
        "leader": factories.user("ld.hg", tree.ha_giang, Role.LEADER),
        "admin": factories.user("qt", None, Role.ADMIN),
    }


@pytest.mark.parametrize(
    ("who", "form", "job_page"),
    [
        ("anonymous", 302, 302),
        ("officer", 200, 200),  # the starter
        ("other_officer", 403, 404),  # another commune
        ("coordinator", 200, 200),  # the coordination office above the commune
        ("stranger", 403, 404),  # another province's coordinator
        ("leader", 403, 404),  # aggregates only
        ("admin", 200, 200),
    ],
)
def test_access(world, people, client, who, form, job_page):
    tree, _prog, officer = world
    with transaction.atomic():
        job = Job.objects.create(kind=importing.CHECK_JOB, started_by=officer, unit=tree.c1)
    if who != "anonymous":
        client.force_login(people[who])
    base = "/ho-gia-dinh/nhap-excel"
    assert client.get(f"{base}/{tree.c1.pk}/").status_code == form
    assert client.get(f"{base}/{tree.c1.pk}/mau.xlsx").status_code == form
    assert client.get(f"{base}/viec/{job.pk}/").status_code == job_page
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, result={"valid": True})
    assert client.get(f"{base}/viec/{job.pk}/ket-qua/").status_code == job_page
    # only the starter (or the administrator) confirms a checked file
    confirm = client.post(f"{base}/viec/{job.pk}/nhap/").status_code
    expected = {"officer": 302, "admin": 302, "coordinator": 403, "anonymous": 302}
    assert confirm == expected.get(who, 404)
    if who == "leader":
        assert upload(client, tree.c1, good_file()).status_code == 403


def test_the_templates_example_names_codes_of_this_database(world, client):
    """An example left in a filled template must not be refused for a code of elsewhere."""
    from tiendo.programmes.models import Programme

    tree, _prog, officer = world
    client.force_login(officer)
    response = client.get(f"/ho-gia-dinh/nhap-excel/{tree.c1.pk}/mau.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    loans = book.worksheets[1]
    headers = [c.value for c in loans[1]]
    code = loans.cell(row=2, column=headers.index("mã chương trình*") + 1).value
    assert Programme.objects.filter(code=code).exists()


def test_checked_lists_nobody_imported_are_erased_after_some_days(world):
    from datetime import timedelta

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    tree, _prog, officer = world
    old = Job.objects.create(
        kind=importing.CHECK_JOB, started_by=officer, unit=tree.c1, upload=b"secret rows"
    )
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=9))
    recent = Job.objects.create(
        kind=importing.CHECK_JOB, started_by=officer, unit=tree.c1, upload=b"today's rows"
    )
    out = io.StringIO()
    call_command("households", "prune-imports", "--days", "7", stdout=out)
    assert "1 danh sách" in out.getvalue()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert bytes(old.upload) == b"" and bytes(recent.upload) == b"today's rows"
    with pytest.raises(CommandError, match="từ 0"):
        call_command("households", "prune-imports", "--days", "-1")
