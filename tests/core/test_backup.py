"""`tiendo backup` / `tiendo restore`: a round trip gives back every row and every stored file.

Runs on whichever database the suite runs on (SQLite, or PostgreSQL with DATABASE_URL).
"""

import hashlib
from datetime import date

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from tests import factories
from tiendo.core.audit import audit
from tiendo.core.models import AuditEntry
from tiendo.data.models import DataValue, DataValueChange, Rollup
from tiendo.data.services import Entry, save_value
from tiendo.documents.models import GeneratedDocument, ReportDefinition, ReportTemplate

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE_BYTES = b"PK\x03\x04 template " + bytes(range(256)) * 40
DOCUMENT_BYTES = b"%PDF-1.7 report " + bytes(range(255, -1, -1)) * 60


def _build():
    tree = factories.mini_tree()
    prog = factories.programme()
    households = factories.indicator(prog, "HOUSEHOLDS")
    officer = factories.user("xa.mot", tree.c1)
    save_value(Entry(households, tree.c1, "2022", factories.D(12)), user=officer)
    save_value(Entry(households, tree.c1, "2022", factories.D("12.5")), user=officer)
    save_value(Entry(households, tree.c3, "2022", factories.D(7)), user=officer)
    template = ReportTemplate.objects.create(
        unit=tree.ha_giang,
        kind="programme_results",
        name="Mẫu tỉnh",
        version=1,
        content=TEMPLATE_BYTES,
        digest=hashlib.sha256(TEMPLATE_BYTES).hexdigest(),
        uploaded_by=officer,
    )
    definition = ReportDefinition.objects.create(
        slug="hg-2022",
        title="Báo cáo 2022",
        kind="programme_results",
        unit=tree.ha_giang,
        period="2022",
        issuing_agency="UBND TỈNH HÀ GIANG",
        symbol="BC-UBND",
        place="Hà Giang",
        issued_on=date(2022, 12, 15),
        summary="Kết quả năm 2022",
        signer_name="Trần Thị Lãnh Đạo",
        recipients=["Như trên"],
    )
    definition.programmes.add(prog)
    GeneratedDocument.objects.create(
        definition=definition,
        format="pdf",
        template=template,
        content=DOCUMENT_BYTES,
        size=len(DOCUMENT_BYTES),
        sha256=hashlib.sha256(DOCUMENT_BYTES).hexdigest(),
        snapshot={"HOUSEHOLDS": "12,5"},
        created_by=officer,
    )
    audit("document.generated", actor=officer, unit=tree.ha_giang, obj=definition, message="Đã tạo")
    return tree, households, officer


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table of the project's models; binary columns as sha256."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        fields = [f.attname for f in model._meta.concrete_fields]
        rows = []
        for row in model.objects.order_by("pk").values_list(*fields):
            rows.append(
                tuple(
                    hashlib.sha256(bytes(v)).hexdigest() if isinstance(v, bytes | memoryview) else v
                    for v in row
                )
            )
        tables[model._meta.db_table] = rows
    return tables


def test_a_backup_restored_gives_back_values_history_audit_templates_and_documents(tmp_path):
    tree, households, officer = _build()
    before = _snapshot()
    assert before["data_datavaluechange"] and before["core_auditentry"]
    assert before["documents_generateddocument"] and before["documents_reporttemplate"]
    backup_file = tmp_path / "tiendo.backup"

    call_command("backup", str(backup_file))

    # everything changes after the backup: a value, its history, the files, the log
    save_value(Entry(households, tree.c1, "2022", factories.D(99)), user=officer)
    ReportTemplate.objects.update(content=b"replaced")
    GeneratedDocument.objects.all().delete()
    AuditEntry.objects.all().delete()
    assert _snapshot() != before

    call_command("restore", str(backup_file), "--force")

    after = _snapshot()
    assert after == before
    stored = GeneratedDocument.objects.get()
    assert hashlib.sha256(bytes(stored.content)).hexdigest() == stored.sha256
    assert bytes(ReportTemplate.objects.get().content) == TEMPLATE_BYTES
    # the restored database goes on working: sequences and rollups follow
    save_value(Entry(households, tree.c2, "2022", factories.D(3)), user=officer)
    assert DataValueChange.objects.count() == len(before["data_datavaluechange"]) + 1
    assert Rollup.objects.get(unit=tree.vi_xuyen, indicator=households, period="2022").total == 15.5


def test_restore_refuses_to_overwrite_a_database_holding_data_without_force(tmp_path):
    _build()
    backup_file = tmp_path / "tiendo.backup"
    call_command("backup", str(backup_file))
    values = list(DataValue.objects.values_list("pk", "value"))

    with pytest.raises(CommandError, match="Cơ sở dữ liệu đang có dữ liệu .* --force"):
        call_command("restore", str(backup_file))
    assert list(DataValue.objects.values_list("pk", "value")) == values


def test_restore_into_an_empty_database_needs_no_force(tmp_path):
    _build()
    before = _snapshot()
    backup_file = tmp_path / "tiendo.backup"
    call_command("backup", str(backup_file))
    call_command("flush", interactive=False, verbosity=0)
    assert DataValue.objects.count() == 0

    call_command("restore", str(backup_file))

    assert _snapshot() == before


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("không phải bản sao lưu")
    with pytest.raises(CommandError, match="không phải bản sao lưu"):
        call_command("restore", str(junk), "--force")
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if connection.vendor == "sqlite" else b"SQLite format 3\x00")
    with pytest.raises(CommandError, match="không khôi phục được vào"):
        call_command("restore", str(other), "--force")


def test_each_refusal_of_a_restore_has_its_own_code(tmp_path):
    from tiendo.core.backup import BackupError, restore

    junk = tmp_path / "notes.txt"
    junk.write_text("không phải bản sao lưu")
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if connection.vendor == "sqlite" else b"SQLite format 3\x00")
    for path, code in [
        (tmp_path / "missing.backup", "backup.file_missing"),
        (junk, "backup.not_a_backup"),
        (other, "backup.other_database"),
    ]:
        with pytest.raises(BackupError) as caught:
            restore(path, force=True)
        assert caught.value.code == code and caught.value.params["path"] == path


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump: PostgreSQL only")
def test_backup_refuses_a_pg_dump_older_than_the_server_and_says_what_to_install(
    tmp_path, monkeypatch
):
    old = tmp_path / "bin" / "pg_dump"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    monkeypatch.setenv("PATH", str(old.parent))

    with pytest.raises(CommandError, match=r"cũ hơn máy chủ PostgreSQL .*postgresql-client-"):
        call_command("backup", str(tmp_path / "x.backup"))

    old.unlink()
    with pytest.raises(
        CommandError, match="Không tìm thấy chương trình pg_dump.*postgresql-client"
    ):
        call_command("backup", str(tmp_path / "x.backup"))
    assert not (tmp_path / "x.backup").exists()
