"""Importing a list of accounts: a dry run first, then all rows or none."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from tiendo.accounts import importing
from tiendo.accounts.importing import ImportFileError, read_rows
from tiendo.accounts.models import Role, User
from tiendo.accounts.services import AccountError, check_import, import_accounts
from tiendo.core.models import AuditEntry

HEADER = "tên đăng nhập,họ và tên,email,mã đơn vị,vai trò\n"


def _csv(*lines, header=HEADER) -> io.BytesIO:
    return io.BytesIO((header + "\n".join(lines) + "\n").encode("utf-8"))


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _problems(plan):
    return [(p.line, p.column) for p in plan.problems]


def test_a_dry_run_shows_what_each_row_would_create_or_change_and_writes_nothing(tree, people):
    rows = read_rows(
        _csv(
            "xa.moihai,Trần Thị Hai,hai@example.vn,10002,commune_officer",
            'xa.moimot,Lê Văn Một,,10001,"Cán bộ sở, ngành, huyện"',  # the role by its name
            "lanhdao.tuyenquang,,,08,leader",
        ),
        "danh-sach.csv",
    )
    plan = check_import(people["coordinator"], rows)
    assert plan.valid, plan.problems
    assert [(r.line, r.username, r.action) for r in plan.rows] == [
        (2, "xa.moihai", "create"),
        (3, "xa.moimot", "change"),
        (4, "lanhdao.tuyenquang", "same"),
    ]
    assert plan.rows[1].changes == {
        "first_name": ("", "Lê Văn Một"),
        "role": (Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER),
    }
    assert not User.objects.filter(username="xa.moihai").exists()


def test_the_import_writes_every_row_with_one_time_passwords(tree, people, settings):
    settings.SMTP_HOST = ""
    rows = read_rows(
        _csv("xa.moihai,Trần Thị Hai,,10002,commune_officer", "xa.moiba,,,10003,commune_officer"),
        "ds.csv",
    )
    plan = import_accounts(people["coordinator"], rows)
    assert plan.created_count == 2
    for issued in plan.issued:
        account = User.objects.get(username=issued.account.username)
        assert account.check_password(issued.password) and account.must_change_password
    assert User.objects.get(username="xa.moiba").unit == tree.n3
    assert AuditEntry.objects.filter(action="account.created").count() == 2
    assert AuditEntry.objects.get(action="account.imported").data["created"] == 2


def test_an_xlsx_list_is_read_with_english_headers_and_codes_that_lost_their_zeros(tree, people):
    content = _xlsx(
        [
            ["username", "full name", "email", "unit code", "role"],
            ["xa.moihai", "Trần Thị Hai", None, 10002, "commune_officer"],
            [None, None, None, None, None],
            ["tinh", "Văn phòng", None, 8, "coordinator"],
        ]
    )
    rows = read_rows(io.BytesIO(content), "ds.xlsx")
    assert [r["line"] for r in rows] == [2, 4]
    plan = check_import(people["coordinator"], rows)
    assert plan.valid, plan.problems
    assert [r.unit for r in plan.rows] == [tree.n2, tree.tuyen_quang]


def test_every_bad_row_is_reported_with_its_line_and_column_and_nothing_is_written(tree, people):
    rows = read_rows(
        _csv(
            "xa.moihai,,,10002,truong_thon",  # no such role
            "xa.moiba,,,77777,commune_officer",  # no such unit
            "xa.moibon,,,20001,commune_officer",  # Quảng Trị: outside the coordinator's scope
            "xa.moinam,,,10002,admin",  # above the coordinator's role
            "xa.moisau,,khong-email,10002,leader",
            "bcd.quangtri,,,10002,leader",  # exists, in another province
            "xa.moibay,,,10002,leader",
            "XA.MOIBAY,,,10003,leader",  # the same username again
            "xa.moitam,,,10001,leader",  # the only good row
        ),
        "ds.csv",
    )
    plan = check_import(people["coordinator"], rows)
    assert _problems(plan) == [
        (2, "vai trò"),
        (3, "mã đơn vị"),
        (4, "mã đơn vị"),
        (5, "vai trò"),
        (6, "email"),
        (7, "tên đăng nhập"),
        (9, "tên đăng nhập"),
    ]
    assert "dòng 8" in plan.problems[-1].message
    with pytest.raises(AccountError) as caught:
        import_accounts(people["coordinator"], rows)
    assert caught.value.code == "account.import_invalid"
    assert not User.objects.filter(username__startswith="xa.moi").exclude(username="xa.moimot")


def test_a_file_refused_whole(tree):
    def code_of(upload, name):
        with pytest.raises(ImportFileError) as caught:
            read_rows(upload, name)
        return caught.value.code

    assert code_of(io.BytesIO(b"%PDF-1.4 ..."), "ds.pdf") == "account.import_not_spreadsheet"
    assert code_of(io.BytesIO(b"\xff\xfe\x00u\x00s"), "ds.csv") == "account.import_not_text"
    assert code_of(_csv("a,b", header="ten,ho\n"), "ds.csv") == "account.import_missing_column"
    assert code_of(_csv(), "ds.csv") == "account.import_empty"


def test_a_file_with_too_many_rows_is_refused(tree, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    lines = [f"u{n},,,10001,leader" for n in range(4)]
    with pytest.raises(ImportFileError) as caught:
        read_rows(_csv(*lines), "ds.csv")
    assert caught.value.code == "account.import_too_many_rows"
    content = _xlsx(
        [["username", "unit code", "role"], *[[f"u{n}", "10001", "leader"] for n in range(4)]]
    )
    with pytest.raises(ImportFileError) as caught:
        read_rows(io.BytesIO(content), "ds.xlsx")
    assert caught.value.code == "account.import_too_many_rows"


def test_an_xlsx_that_is_not_a_workbook_is_refused_before_parsing(tree):
    from tiendo.core.uploads import UploadError

    with pytest.raises(UploadError) as caught:
        read_rows(io.BytesIO(b"username,role\n"), "ds.xlsx")
    assert caught.value.code == "upload.not_zip"


def test_the_import_page_checks_then_writes_only_on_confirmation(tree, people, settings):
    settings.SMTP_HOST = ""
    client = Client()
    client.force_login(people["coordinator"])
    upload = SimpleUploadedFile(
        "ds.csv", (HEADER + "xa.moihai,Trần Thị Hai,,10002,commune_officer\n").encode()
    )
    response = client.post(reverse("accounts:import"), {"file": upload})
    assert response.status_code == 200
    assert response.context["plan"].valid and "Tạo mới" in response.content.decode()
    assert not User.objects.filter(username="xa.moihai").exists()
    token = response.context["token"]
    # another user cannot confirm it
    other = Client()
    other.force_login(people["stranger"])
    response = other.post(reverse("accounts:import"), {"token": token})
    assert response.context["error"] and not User.objects.filter(username="xa.moihai").exists()
    response = client.post(reverse("accounts:import"), {"token": token, "action": "confirm"})
    assert response.status_code == 200
    issued = response.context["done"].issued
    assert [i.account.username for i in issued] == ["xa.moihai"]
    assert issued[0].password in response.content.decode()
    assert User.objects.get(username="xa.moihai").unit == tree.n2


def test_the_import_page_shows_the_errors_and_offers_no_confirmation(tree, people):
    client = Client()
    client.force_login(people["coordinator"])
    upload = SimpleUploadedFile("ds.csv", (HEADER + "xa.moihai,,,10002,admin\n").encode())
    response = client.post(reverse("accounts:import"), {"file": upload})
    body = response.content.decode()
    assert response.context["plan"].problems and "token" not in response.context
    assert "vai trò" in body and 'name="token"' not in body
    upload = SimpleUploadedFile("ds.docx", b"PK\x03\x04")
    response = client.post(reverse("accounts:import"), {"file": upload})
    assert "không phải bảng tính" in response.context["error"]
