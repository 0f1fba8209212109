"""One set of field rules for every way an account is written: the same input gets the same
answer from the creation page, the edit page, an imported list and ``tiendo users add``.

Each test here is a rule on which the paths once disagreed; it runs the one input through
all of them. ``create`` and ``update`` are the services the pages call, ``import-new`` and
``import-change`` a list naming a new username or an existing account (checked as a dry
run, which writes nothing)."""

import io
import unicodedata
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from tiendo.accounts import importing
from tiendo.accounts.importing import ImportFileError, read_rows
from tiendo.accounts.models import Role, User
from tiendo.accounts.services import (
    AccountError,
    check_import,
    create_account,
    import_accounts,
    update_account,
)
from tiendo.core.models import AuditEntry

NEW = ("create", "import-new")
CHANGE = ("update", "import-change")
EDITED = ("first_name", "email", "unit", "role", "position")
LONG_EMAIL = "a" * 250 + "@example.vn"  # 261 characters: validate_email takes up to 320


def _row(username, *, unit, role, full_name="", email="", line=2) -> dict:
    return {
        "line": line,
        "username": username,
        "full_name": full_name,
        "email": email,
        "unit_code": unit.code if unit is not None else "",
        "role": role,
    }


def _refusals(path, actor, *, target=None, username="moi.tao", **fields) -> list[str]:
    """The codes refusing ``fields`` on ``path`` (empty: accepted). ``target`` is the
    account an update or an imported change applies to."""
    fields = {"full_name": "", "email": "", **fields}
    if path.startswith("import"):
        name = target.username if path == "import-change" else username
        return [p.code for p in check_import(actor, [_row(name, **fields)]).problems]
    try:
        if path == "create":
            create_account(actor, username=username, **fields)
        else:
            update_account(actor, target.pk, version=target.version, **fields)
    except AccountError as error:
        return [error.code]
    return []


# --- rules that disagreed --------------------------------------------------------------


@pytest.mark.parametrize("path", NEW + CHANGE)
def test_an_email_longer_than_its_column_is_refused_on_every_path(tree, people, path):
    # accepted by every check before (320 characters), then stored by SQLite and a server
    # error on PostgreSQL's varchar(254)
    refusals = _refusals(
        path,
        people["coordinator"],
        target=people["officer"],
        email=LONG_EMAIL,
        unit=tree.n1,
        role=Role.COMMUNE_OFFICER,
    )
    assert refusals == ["account.too_long"]
    assert not User.objects.filter(email=LONG_EMAIL).exists()


@pytest.mark.parametrize("path", NEW + CHANGE)
def test_a_unit_of_the_tree_before_the_reform_takes_accounts_on_every_path(tree, people, path):
    # the README's first coordinator is Bắc Kạn's (merged in 2025): old units are places
    # to work in, alike on every path
    for unit in (tree.ha_giang, tree.c1):
        target = User.objects.get(pk=people["officer"].pk)
        refusals = _refusals(
            path,
            people["admin"],
            target=target,
            username=f"moi.{unit.code}",
            unit=unit,
            role=Role.LEADER,
        )
        assert refusals == [], unit


@pytest.mark.parametrize("path", [*NEW, "command"])
def test_a_username_with_diacritics_is_refused_wherever_an_account_is_created(tree, people, path):
    # SQLite took "đức" and "ĐỨC" as two accounts (its LIKE folds ASCII case only),
    # PostgreSQL as one: usernames are ASCII on both
    if path == "command":
        with pytest.raises(CommandError, match="phải viết không dấu"):
            call_command("users", "add", "đức", "--unit", "10001", "--role", "leader")
    else:
        refusals = _refusals(
            path, people["coordinator"], username="đức", unit=tree.n1, role=Role.LEADER
        )
        assert refusals == ["account.username_not_ascii"]
    assert not User.objects.filter(username="đức").exists()


def test_the_administration_site_refuses_a_username_with_diacritics_too(tree, people):
    client = Client()
    client.force_login(people["admin"])
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "đức",
            "usable_password": "false",
            "unit": tree.n1.pk,
            "role": Role.LEADER,
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["username"]
    assert errors == [
        "Tên đăng nhập “đức” phải viết không dấu: chỉ chữ a–z, số và các dấu @ . + - _."
    ]
    assert not User.objects.filter(username="đức").exists()


@pytest.mark.parametrize("path", CHANGE)
def test_an_account_changes_its_own_name_on_every_path(tree, people, path):
    # the import refused it ("Bạn không thể tự đổi vai trò của mình") though no role changed
    me = people["coordinator"]
    refusals = _refusals(
        path, me, target=me, full_name="Văn phòng điều phối tỉnh", unit=me.unit, role=me.role
    )
    assert refusals == []


@pytest.mark.parametrize("path", CHANGE)
def test_an_account_neither_promotes_nor_moves_itself_on_any_path(tree, people, path):
    # the edit said account.own_role, the import account.role_above_own
    me = people["coordinator"]
    assert _refusals(path, me, target=me, unit=me.unit, role=Role.ADMIN) == ["account.own_role"]
    assert _refusals(path, me, target=me, unit=tree.n1, role=me.role) == ["account.own_unit"]


@pytest.mark.parametrize("path", CHANGE)
def test_a_unit_and_role_that_do_not_change_are_not_checked_again(tree, people, path):
    # a leader made without a unit (on the administration site): the edit page changes its
    # email, the import refused the same row for the unit it already lacks
    lonely = User.objects.create_user(username="lanhdao.cu", role=Role.LEADER)
    refusals = _refusals(
        path, people["admin"], target=lonely, email="cu@example.vn", unit=None, role=Role.LEADER
    )
    assert refusals == []
    # a change of role is checked in full
    lonely.refresh_from_db()
    refusals = _refusals(path, people["admin"], target=lonely, unit=None, role=Role.COORDINATOR)
    assert refusals == ["account.unit_required"]


@pytest.mark.parametrize("path", ["create", "update", "import"])
def test_a_decomposed_full_name_is_stored_composed_on_every_path(tree, people, path):
    name = "Nguyễn Thị Hà"
    typed = unicodedata.normalize("NFD", name)
    assert typed != name
    actor, officer = people["coordinator"], people["officer"]
    if path == "create":
        create_account(actor, username="moi", full_name=typed, unit=tree.n1, role=Role.LEADER)
        account = User.objects.get(username="moi")
    elif path == "update":
        update_account(
            actor,
            officer.pk,
            version=officer.version,
            full_name=typed,
            email="",
            unit=tree.n1,
            role=officer.role,
        )
        account = User.objects.get(pk=officer.pk)
    else:
        import_accounts(actor, [_row("moi", full_name=typed, unit=tree.n1, role="leader")])
        account = User.objects.get(username="moi")
    assert account.first_name == name


# --- the page says what the import says ------------------------------------------------


def _page_error(client, data) -> str:
    response = client.post(reverse("accounts:create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert len(errors) == 1, errors
    return next(iter(errors.values()))[0]


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"email": "khong-email"}, "account.bad_email"),
        ({"email": LONG_EMAIL}, "account.too_long"),
        ({"username": "u" * 151}, "account.username_long"),
        ({"username": ""}, "account.username_missing"),
        ({"role": "admin"}, "account.role_above_own"),
        ({"unit_code": "77777"}, "account.unknown_unit"),
        ({"unit_code": "20001"}, "account.unit_out_of_scope"),
    ],
)
def test_the_creation_page_refuses_with_the_imports_code_and_message(tree, people, bad, code):
    # the form used to answer first with Django's own messages ("Nhập địa chỉ email.",
    # "Giá trị này chỉ có tối đa 150 kí tự", "Hãy chọn một lựa chọn hợp lệ")
    data = {"username": "moi", "email": "", "unit_code": "10001", "role": "leader", **bad}
    client = Client()
    client.force_login(people["coordinator"])
    shown = _page_error(client, data)
    row = {"line": 2, "full_name": "", **data}
    (problem,) = check_import(people["coordinator"], [row]).problems
    assert (problem.code, problem.message) == (code, shown)
    assert not User.objects.filter(username="moi").exists()


def test_an_unknown_unit_code_reads_the_same_on_the_page_the_import_and_the_command(people):
    client = Client()
    client.force_login(people["coordinator"])
    shown = _page_error(client, {"username": "moi", "unit_code": "77777", "role": "leader"})
    (problem,) = check_import(
        people["coordinator"], [_row("moi", unit=None, role="leader") | {"unit_code": "77777"}]
    ).problems
    with pytest.raises(CommandError) as caught:
        call_command("users", "add", "moi", "--unit", "77777", "--role", "leader")
    assert shown == problem.message == str(caught.value) == "Không có đơn vị nào mang mã “77777”."


def test_the_command_line_refuses_an_unknown_role_with_the_services_message(tree):
    with pytest.raises(CommandError, match="Vai trò “truong_thon” không có"):
        call_command("users", "add", "moi", "--unit", "10001", "--role", "truong_thon")


# --- the import itself -------------------------------------------------------------------


def test_a_username_twice_in_the_file_is_refused_naming_both_rows(tree, people):
    rows = [
        _row("xa.moihai", unit=tree.n2, role="leader", line=2),
        _row("xa.moiba", unit=tree.n3, role="leader", line=3),
        _row("XA.MOIHAI", unit=tree.n3, role="leader", line=5),
    ]
    plan = check_import(people["coordinator"], rows)
    assert [(p.line, p.code) for p in plan.problems] == [(5, "account.import_duplicate")]
    assert plan.problems[0].message == "Tên đăng nhập “XA.MOIHAI” đã có ở dòng 2 của tệp."
    with pytest.raises(AccountError) as caught:
        import_accounts(people["coordinator"], rows)
    assert caught.value.code == "account.import_invalid"
    assert not User.objects.filter(username__in=["xa.moihai", "xa.moiba"]).exists()


def test_a_dry_run_writes_nothing_on_the_page_nor_on_the_command_line(tree, people, tmp_path):
    content = (
        "username,full name,email,unit code,role\n"
        "xa.moihai,Trần Thị Hai,,10002,commune_officer\n"
        "xa.moimot,Tên Mới,mot@example.vn,10001,commune_officer\n"
    )

    def accounts():
        return list(User.objects.order_by("pk").values(*EDITED, "username", "version"))

    before = accounts()
    client = Client()
    client.force_login(people["coordinator"])
    upload = io.BytesIO(content.encode())
    upload.name = "ds.csv"
    response = client.post(reverse("accounts:import"), {"file": upload})
    assert response.context["plan"].valid
    assert [r.action for r in response.context["plan"].rows] == ["create", "change"]
    path = tmp_path / "ds.csv"
    path.write_text(content, encoding="utf-8")
    call_command("users", "import", str(path), "--dry-run", stdout=io.StringIO())
    assert accounts() == before
    assert not AuditEntry.objects.filter(action__startswith="account.").exists()


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_larger_than_the_upload_cap_is_refused_before_openpyxl_reads_it(
    tree, settings, monkeypatch
):
    content = _xlsx([["username", "unit code", "role"], ["a", "10001", "leader"]])
    settings.UPLOAD_MAX_BYTES = len(content) - 1

    def never(*args, **kwargs):
        raise AssertionError("parsed before the cap")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    from tiendo.core.uploads import UploadError

    with pytest.raises(UploadError) as caught:
        read_rows(io.BytesIO(content), "ds.xlsx")
    assert caught.value.code == "upload.too_large"


def test_a_csv_over_the_caps_is_refused_before_it_is_parsed_as_csv(tree, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("parsed before the cap")

    monkeypatch.setattr(importing.csv, "reader", never)
    monkeypatch.setattr(importing, "MAX_CSV_BYTES", 100)
    with pytest.raises(ImportFileError) as caught:
        read_rows(io.BytesIO(b"username,unit code,role\n" + b"a,10001,leader\n" * 10), "ds.csv")
    assert caught.value.code == "upload.too_large"
    monkeypatch.setattr(importing, "MAX_CSV_BYTES", 1024 * 1024)
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    with pytest.raises(ImportFileError) as caught:
        read_rows(io.BytesIO(b"username,unit code,role\n" + b"a,10001,leader\n" * 4), "ds.csv")
    assert caught.value.code == "account.import_too_many_rows"


def _sheet_with_a_row_at(line: int, dimension: bytes) -> bytes:
    """An .xlsx with a header and one account on ``line``, whose ``<dimension>`` element
    is replaced by ``dimension``."""
    book = Workbook()
    sheet = book.active
    sheet.append(["username", "unit code", "role"])
    for column, value in enumerate(["xa.xa", "10001", "leader"], start=1):
        sheet.cell(row=line, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    rewritten = io.BytesIO()
    with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                declared = f'<dimension ref="A1:C{line}"/>'.encode()
                assert declared in data
                data = data.replace(declared, dimension)
            target.writestr(info.filename, data)
    return rewritten.getvalue()


@pytest.mark.parametrize("dimension", [b'<dimension ref="A1:C2"/>', b""])
def test_an_xlsx_that_understates_its_size_is_read_to_its_end_within_the_cap(
    tree, monkeypatch, dimension
):
    # a <dimension> saying two rows (or none) while the rows go on below: openpyxl read only
    # the declared rows, and the blank rows between are counted against the cap as read
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = read_rows(io.BytesIO(_sheet_with_a_row_at(5, dimension)), "ds.xlsx")
    assert [(r["line"], r["username"]) for r in rows] == [(5, "xa.xa")]
    with pytest.raises(ImportFileError) as caught:
        read_rows(io.BytesIO(_sheet_with_a_row_at(40, dimension)), "ds.xlsx")
    assert caught.value.code == "account.import_too_many_rows"
