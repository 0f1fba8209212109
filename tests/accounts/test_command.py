"""``tiendo users add|list|disable|import``."""

import io

import pytest
from django.core.management import CommandError, call_command

from tiendo.accounts.models import Role, User
from tiendo.core.models import AuditEntry


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("users", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_add_prints_a_one_time_password_that_must_be_changed(tree):
    out, _ = _run(
        "add",
        "bcd.tuyenquang",
        "--unit",
        "08",
        "--role",
        "coordinator",
        "--name",
        "Văn phòng điều phối",
        "--email",
        "vp@example.vn",
    )
    account = User.objects.get(username="bcd.tuyenquang")
    assert account.unit == tree.tuyen_quang and account.role == Role.COORDINATOR
    assert account.get_full_name() == "Văn phòng điều phối" and account.email == "vp@example.vn"
    password = out.split("Mật khẩu dùng một lần: ")[1].split()[0]
    assert account.check_password(password) and account.must_change_password
    entry = AuditEntry.objects.get(action="account.created")
    assert entry.actor is None and entry.data["via"] == "command"


def test_add_reads_the_password_from_stdin(tree, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Mat-khau-dai-2026\n"))
    out, _ = _run(
        "add", "xa.moimot", "--unit", "10001", "--role", "commune_officer", "--password-stdin"
    )
    account = User.objects.get(username="xa.moimot")
    assert account.check_password("Mat-khau-dai-2026") and not account.must_change_password
    assert "Mật khẩu dùng một lần" not in out


def test_add_refuses_a_weak_password_an_unknown_unit_and_a_taken_username(tree, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="Mật khẩu không dùng được"):
        _run("add", "a", "--unit", "10001", "--role", "leader", "--password-stdin")
    with pytest.raises(CommandError, match="77777"):
        _run("add", "a", "--unit", "77777", "--role", "leader")
    with pytest.raises(CommandError, match="phải gắn với một đơn vị"):
        _run("add", "a", "--role", "leader")
    _run("add", "a", "--unit", "10001", "--role", "leader")
    with pytest.raises(CommandError, match="đã có người dùng"):
        _run("add", "A", "--unit", "10001", "--role", "leader")
    assert User.objects.count() == 1


def test_list_and_disable(tree):
    _run("add", "xa.moimot", "--unit", "10001", "--role", "commune_officer")
    _run("add", "xa.khac", "--unit", "20001", "--role", "commune_officer")
    out, _ = _run("list", "--unit", "08")
    assert "xa.moimot" in out and "xa.khac" not in out
    out, _ = _run("disable", "xa.moimot")
    assert not User.objects.get(username="xa.moimot").is_active
    out, _ = _run("list")
    assert "xa.moimot" in out and "[đã khóa]" in out and "xa.khac" in out
    with pytest.raises(CommandError, match="Không có tài khoản"):
        _run("disable", "khong.co")


def test_import_with_dry_run_writes_nothing_then_writes(tree, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text(
        "username,full name,unit code,role\nxa.moihai,Trần Thị Hai,10002,commune_officer\n",
        encoding="utf-8",
    )
    out, _ = _run("import", str(path), "--dry-run")
    assert "Dòng 2: tạo xa.moihai" in out and "Chạy thử" in out
    assert not User.objects.exists()
    out, _ = _run("import", str(path))
    assert User.objects.get(username="xa.moihai").unit == tree.n2
    assert "xa.moihai: mật khẩu dùng một lần" in out


def test_import_reports_each_bad_row_and_writes_nothing(tree, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text(
        "username,unit code,role\nxa.moihai,10002,truong_thon\nxa.moiba,10003,leader\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 lỗi"):
        call_command("users", "import", str(path), stdout=out, stderr=err)
    assert "Dòng 2, cột “vai trò”" in err.getvalue()
    assert not User.objects.exists()
