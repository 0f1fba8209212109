"""Backing up and restoring the whole database, on PostgreSQL and on SQLite.

Everything the system keeps is in the database: values, history, the audit log, users,
uploaded Word templates and generated documents (stored as bytes in ``BinaryField``s, not
under a media folder). A backup is therefore one file:

- PostgreSQL: ``pg_dump --format=custom`` (restored by ``pg_restore --clean`` in one
  transaction). ``pg_dump`` comes from Debian's ``postgresql-client`` and must be at least
  the server's major version, which is checked first.
- SQLite: a copy of the database made through SQLite's online backup API, consistent even
  while the server is writing; restored through the same API.

Restoring over a database that holds data needs ``force``: a restore replaces everything.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables that `migrate` fills by itself: a freshly migrated database is still "empty".
_SETUP_TABLES = {"django_migrations", "django_content_type", "auth_permission", "django_session"}


class BackupError(TiendoError):
    """A backup or restore that cannot go ahead; the message says why, in Vietnamese."""

    code = "backup.failed"


def _connection(alias: str):
    return connections[alias]


def vendor(alias: str = DEFAULT_DB_ALIAS) -> str:
    return _connection(alias).vendor


def backup(path: str | Path, alias: str = DEFAULT_DB_ALIAS) -> Path:
    """Write the whole database to ``path``. Returns the path."""
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise BackupError(
            _("Thư mục “%(dir)s” không tồn tại."), code="backup.no_directory", dir=path.parent
        )
    conn = _connection(alias)
    if conn.vendor == "postgresql":
        _pg_dump(conn, path)
    elif conn.vendor == "sqlite":
        _sqlite_backup(conn, path)
    else:  # pragma: no cover - only the two databases are supported
        raise BackupError(
            _("Chưa hỗ trợ sao lưu cơ sở dữ liệu %(vendor)s."),
            code="backup.unsupported_database",
            vendor=conn.vendor,
        )
    return path


def restore(path: str | Path, *, force: bool = False, alias: str = DEFAULT_DB_ALIAS) -> None:
    """Replace the whole database with the backup in ``path``.

    Refuses a file that is not a backup of this kind of database, and — unless ``force`` —
    a database that already holds data.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(
            _("Không tìm thấy tệp sao lưu “%(path)s”."), code="backup.file_missing", path=path
        )
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    conn = _connection(alias)
    expected = {"postgresql": PG_MAGIC, "sqlite": SQLITE_MAGIC}[conn.vendor]
    if not head.startswith(expected):
        kind = {PG_MAGIC: "PostgreSQL", SQLITE_MAGIC: "SQLite"}
        found = next((name for magic, name in kind.items() if head.startswith(magic)), None)
        if found:
            raise BackupError(
                _(
                    "Tệp “%(path)s” là bản sao lưu %(found)s, không khôi phục được vào cơ sở "
                    "dữ liệu %(target)s đang dùng."
                ),
                code="backup.other_database",
                path=path,
                found=found,
                target=kind[expected],
            )
        raise BackupError(
            _("Tệp “%(path)s” không phải bản sao lưu của Tiến Độ."),
            code="backup.not_a_backup",
            path=path,
        )
    if not force:
        rows = count_rows(alias)
        if rows:
            raise BackupError(
                _(
                    "Cơ sở dữ liệu đang có dữ liệu (%(rows)s bản ghi, ví dụ bảng %(table)s): "
                    "khôi phục sẽ xóa và thay thế toàn bộ. Thêm --force nếu chắc chắn muốn "
                    "ghi đè."
                ),
                code="backup.database_not_empty",
                rows=format_number(sum(rows.values())),
                table=next(iter(rows)),
            )
    if conn.vendor == "postgresql":
        _pg_restore(conn, path)
    else:
        _sqlite_restore(conn, path)


def count_rows(alias: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rows per table holding data (the tables `migrate` fills by itself left out)."""
    conn = _connection(alias)
    existing = set(conn.introspection.table_names())
    counts = {}
    with conn.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table in _SETUP_TABLES or table not in existing:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")
            (n,) = cursor.fetchone()
            if n:
                counts[table] = n
    return counts


# -- PostgreSQL --------------------------------------------------------------------------


def _pg_env(conn) -> tuple[dict[str, str], str]:
    s = conn.settings_dict
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if s.get(key):
            env[var] = str(s[key])
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return env, s["NAME"]


def _pg_tool(conn, name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            _(
                "Không tìm thấy chương trình %(tool)s: cài gói Debian postgresql-client "
                "(scripts/debian-packages kiểm tra và cài các gói cần thiết)."
            ),
            code="backup.tool_missing",
            tool=name,
        )
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    tool_major = int(match.group(1)) if match else 0
    conn.ensure_connection()
    server_major = conn.pg_version // 10000
    if tool_major < server_major:
        raise BackupError(
            _(
                "%(tool)s phiên bản %(tool_major)d cũ hơn máy chủ PostgreSQL %(server)d: cài "
                "postgresql-client-%(server)d."
            ),
            code="backup.tool_too_old",
            tool=name,
            tool_major=tool_major,
            server=server_major,
        )
    return found


def _pg_run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s dừng với lỗi: %(error)s"),
            code="backup.tool_failed",
            tool=Path(args[0]).name,
            error=result.stderr.strip(),
        )


def _pg_dump(conn, path: Path) -> None:
    tool = _pg_tool(conn, "pg_dump")
    env, name = _pg_env(conn)
    _pg_run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={path}", name], env)


def _pg_restore(conn, path: Path) -> None:
    tool = _pg_tool(conn, "pg_restore")
    env, name = _pg_env(conn)
    conn.close()  # our own session must hold no lock on the tables being replaced
    _pg_run(
        [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={name}",
            str(path),
        ],
        env,
    )


# -- SQLite ------------------------------------------------------------------------------


def _sqlite_backup(conn, path: Path) -> None:
    conn.ensure_connection()
    tmp = path.with_name(path.name + ".partial")
    tmp.unlink(missing_ok=True)
    target = sqlite3.connect(tmp)
    try:
        conn.connection.backup(target)
        # one self-contained file, whatever the journal mode of the live database
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
    tmp.replace(path)


def _sqlite_restore(conn, path: Path) -> None:
    conn.ensure_connection()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        source.backup(conn.connection)
    except sqlite3.Error as exc:
        raise BackupError(
            _("Không khôi phục được từ “%(path)s”: %(error)s"),
            code="backup.restore_failed",
            path=path,
            error=exc,
        ) from exc
    finally:
        source.close()
