"""The household import at a province's scale: 100.000 households, their loans and plots.

``python -m bench.households_import`` (from the repository root; ``--db sqlite`` or
``--db postgres``, both by default; ``--households N``) generates once an .xlsx of N
households in 50 communes — each with an ID number, one loan and one plot, a tenth of the
names typed in TCVN3 — kept as ``var/bench-households-<N>.xlsx``, then, on an empty
database each run (SQLite ``var/bench-households.sqlite3``; PostgreSQL
``tiendo_bench_hh``, dropped and created again), imports it through the jobs a user's
upload starts — the dry run (:func:`tiendo.households.importing.run_check`) then the
import (:func:`~tiendo.households.importing.run_import`) — run in this process as the
worker would run them, without the HTTP layer. Measured, in seconds:

(h1) the dry run: the file decrypted, inspected, read (openpyxl read-only), every row
     checked, duplicates looked up;
(h2) the import: the file checked again, encrypted ID numbers prepared, everything written
     in one transaction (bulk inserts in batches), the change rows, the events;
(h3) h1 + h2, target ≤ 60 s;

and, to see where the time goes, the cost per row of encrypting an ID number (Fernet) and
of its blind index (HMAC-SHA256), and the time openpyxl alone takes to read the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/tiendo_bench_hh"
COMMUNES = 50
TARGET_SECONDS = 60
SURNAMES = ("Nguyễn", "Trần", "Lò", "Vàng", "Hoàng", "Ma", "Đặng", "Triệu", "Lục", "Nông")
MIDDLE = ("Văn", "Thị", "Seo", "Đức", "Minh", "Thu")
GIVEN = ("An", "Bình", "Chử", "Dũng", "Hương", "Lan", "Mai", "Nam", "Phúc", "Tuyên", "Xuân")


def var_dir() -> Path:
    root = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("TIENDO_VAR_DIR", root / "var"))


def commune_code(index: int) -> str:
    return f"99{index:03d}"


def generate(households: int, path: Path) -> Path:
    """Write the .xlsx of ``households`` households (with a loan and a plot each), as Excel
    writes one: text in the shared-strings table (openpyxl's write-only mode writes inline
    strings instead, which no Excel file has and which read several times slower)."""
    from tiendo.core.legacy_encoding import encode_tcvn3
    from tiendo.households import importing

    def header(kind):
        return [str(c.label) for c in importing.COLUMNS[kind]]

    book = _Book()
    ho, vay, dat = (
        [header(importing.HOUSEHOLDS)],
        [header(importing.LOANS)],
        [header(importing.PLOTS)],
    )
    for n in range(households):
        commune = commune_code(n % COMMUNES)
        code = f"H{n // COMMUNES:05d}"
        year = 1940 + n % 60
        female = n % 2 == 1
        name = f"{SURNAMES[n % 10]} {MIDDLE[n % 6]} {GIVEN[n % 11]} {n // 660}"
        if n % 10 == 0:
            name = encode_tcvn3(name)
        number = f"002{(1 if female else 0)}{year % 100:02d}{n:06d}"
        ho.append(
            [commune, code, name, year, "Nữ" if female else "Nam", "Tày", number]
            + [f"Thôn {n % 7 + 1}", None, None]
        )
        vay.append(
            [commune, code, "BENCH", f"HD{n:06d}", 20 + n % 80, "15/03/2024", 36, "Trồng cam", 6.6]
        )
        dat.append(
            [commune, code, "Cam sành", 0.25 + (n % 8) / 4, None, None, "không", None, 20, 45]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path, {"Hộ": ho, "Khoản vay": vay, "Thửa đất": dat})
    return path


class _Book:
    """The few parts of an .xlsx an importer reads, written directly."""

    NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    def __init__(self):
        self.strings: dict[str, int] = {}

    def _cell(self, ref: str, value) -> str:
        from xml.sax.saxutils import escape

        if value is None:
            return ""
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"><v>{value}</v></c>'
        index = self.strings.setdefault(escape(str(value)), len(self.strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    def _sheet(self, rows) -> str:
        from openpyxl.utils import get_column_letter

        letters = [get_column_letter(i + 1) for i in range(30)]
        body = []
        for r, row in enumerate(rows, start=1):
            cells = "".join(self._cell(f"{letters[i]}{r}", v) for i, v in enumerate(row))
            body.append(f'<row r="{r}">{cells}</row>')
        width = letters[max(len(row) for row in rows) - 1]
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{self.NS}">'
            f'<dimension ref="A1:{width}{len(rows)}"/><sheetData>{"".join(body)}</sheetData></worksheet>'
        )

    def save(self, path: Path, sheets: dict[str, list]) -> None:
        import zipfile

        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        parts = {
            f"xl/worksheets/sheet{i}.xml": self._sheet(rows)
            for i, rows in enumerate(sheets.values(), 1)
        }
        strings = "".join(f"<si><t>{text}</t></si>" for text in self.strings)
        parts["xl/sharedStrings.xml"] = (
            f'{head}<sst xmlns="{self.NS}" count="{len(self.strings)}" uniqueCount="{len(self.strings)}">{strings}</sst>'
        )
        names = "".join(
            f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(sheets, 1)
        )
        parts["xl/workbook.xml"] = (
            f'{head}<workbook xmlns="{self.NS}" xmlns:r="{self.REL}"><sheets>{names}</sheets></workbook>'
        )
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        links = "".join(
            f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        links += f'<Relationship Id="rId{len(sheets) + 1}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        package = "http://schemas.openxmlformats.org/package/2006/relationships"
        parts["xl/_rels/workbook.xml.rels"] = (
            f'{head}<Relationships xmlns="{package}">{links}</Relationships>'
        )
        parts["_rels/.rels"] = (
            f'{head}<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        )
        ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ml}.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        parts["[Content_Types].xml"] = (
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ml}.sharedStrings+xml"/>'
            f"{overrides}</Types>"
        )
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in parts.items():
                archive.writestr(name, text.encode())


def ensure_world():
    """A province of :data:`COMMUNES` communes, a programme and a coordinator."""
    from tiendo.accounts.models import Role, User
    from tiendo.programmes.models import Programme
    from tiendo.units.models import Level, Unit, UnitKind

    province, _ = Unit.objects.get_or_create(
        code="99",
        defaults={"name": "Tỉnh Thử", "kind": UnitKind.PROVINCE, "level": Level.PROVINCE},
    )
    for index in range(COMMUNES):
        Unit.objects.get_or_create(
            code=commune_code(index),
            defaults={
                "name": f"Xã Thử {index}",
                "kind": UnitKind.COMMUNE,
                "level": Level.COMMUNE,
                "parent": province,
            },
        )
    Programme.objects.get_or_create(code="BENCH", defaults={"name": "Chương trình thử"})
    user, _ = User.objects.get_or_create(
        username="bench.import", defaults={"role": Role.COORDINATOR, "unit": province}
    )
    return province, user


def run_import(path: Path, unit, user, log=print) -> dict:
    """The dry-run job then the import job on ``path``; seconds of each."""
    from tiendo.core.jobs import run_job, start_job
    from tiendo.core.models import Job
    from tiendo.households import crypto, importing

    data = path.read_bytes()
    cpu_started = time.process_time()
    started = time.perf_counter()
    check = start_job(
        importing.CHECK_JOB,
        user=user,
        unit=unit,
        upload=crypto.encrypt_bytes(data),
        upload_name=path.name,
    )
    run_job.call(check.pk)
    checked, cpu_checked = time.perf_counter(), time.process_time()
    check = Job.objects.get(pk=check.pk)
    if check.status != "succeeded":
        raise AssertionError(f"dry run: {check.message} {check.errors[:3]}")
    log(f"dry run: {checked - started:.1f} s ({check.result['households']} households)")
    job = start_job(importing.IMPORT_JOB, user=user, unit=unit, params={"check_job": check.pk})
    run_job.call(job.pk)
    finished, cpu_finished = time.perf_counter(), time.process_time()
    job = Job.objects.get(pk=job.pk)
    if job.status != "succeeded":
        raise AssertionError(f"import: {job.message} {job.errors[:3]}")
    log(f"import: {finished - checked:.1f} s")
    return {
        "households": job.result["households"],
        "loans": job.result["loans"],
        "plots": job.result["plots"],
        "file_mb": round(len(data) / 1024 / 1024, 1),
        "check_s": round(checked - started, 2),
        "import_s": round(finished - checked, 2),
        "total_s": round(finished - started, 2),
        # this process's CPU time: what the wall time would be on an idle machine, less
        # the database server's own work (PostgreSQL's is in another process)
        "check_cpu_s": round(cpu_checked - cpu_started, 2),
        "import_cpu_s": round(cpu_finished - cpu_checked, 2),
        "load": round(os.getloadavg()[0], 1),
    }


def unit_costs(path: Path, rows: int = 20_000) -> dict:
    """Microseconds per row of Fernet and of the blind index; seconds of openpyxl alone."""
    from openpyxl import load_workbook

    from tiendo.households import crypto

    numbers = [f"002085{n:06d}" for n in range(rows)]
    started = time.perf_counter()
    for number in numbers:
        crypto.encrypt(number)
    encrypted = time.perf_counter()
    for number in numbers:
        crypto.blind_index(number)
    indexed = time.perf_counter()
    workbook = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for sheet in workbook.worksheets for _row in sheet.iter_rows(values_only=True))
    workbook.close()
    read = time.perf_counter()
    return {
        "fernet_us": round((encrypted - started) / rows * 1e6, 1),
        "blind_index_us": round((indexed - encrypted) / rows * 1e6, 1),
        "openpyxl_s": round(read - indexed, 2),
        "openpyxl_rows": count,
    }


def child(args) -> dict:
    _setup()
    from django.core.management import call_command
    from django.db import connection

    def log(msg: str) -> None:
        print(f"[{args.db}] {msg}", flush=True)

    call_command("migrate", interactive=False, verbosity=0)
    unit, user = ensure_world()
    path = Path(args.file)
    outcome = run_import(path, unit, user, log=log)
    outcome.update(unit_costs(path))
    return {"db": args.db, "vendor": connection.vendor, **outcome}


def format_table(outcomes: list[dict]) -> str:
    lines = [
        f"{'db':<9} {'households':>10} {'file MB':>8} {'(h1) dry run':>13} {'(h2) import':>12}"
        f" {'(h3) total':>11} {'target':>7}  cpu s (h1+h2)  load  fernet µs/row"
        "  index µs/row  openpyxl s"
    ]
    for o in outcomes:
        lines.append(
            f"{o['db']:<9} {o['households']:>10} {o['file_mb']:>8} {o['check_s']:>13}"
            f" {o['import_s']:>12} {o['total_s']:>11} {TARGET_SECONDS:>7}"
            f"  {o['check_cpu_s']:>5}+{o['import_cpu_s']:<7} {o['load']:>5}"
            f"  {o['fernet_us']:>13}  {o['blind_index_us']:>12}  {o['openpyxl_s']:>10}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    from bench.pivot import prepare_postgres

    parser = argparse.ArgumentParser(prog="python -m bench.households_import")
    parser.add_argument("--db", choices=["sqlite", "postgres"], action="append")
    parser.add_argument(
        "--pg-url", default=os.environ.get("TIENDO_BENCH_HH_PG_URL", DEFAULT_PG_URL)
    )
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--json", help="write the outcomes to this file")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--file")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.generate:
        _setup()
        generate(args.households, Path(args.file))
        return 0
    if args.child:
        outcome = child(argparse.Namespace(db=args.db[0], file=args.file))
        with open(args.out, "w") as f:
            json.dump(outcome, f)
        return 0
    path = var_dir() / f"bench-households-{args.households}.xlsx"
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "tiendo-bench-key-not-secret")
    env.setdefault("PERSONAL_DATA_KEYS", "dGllbmRvLWJlbmNoLW9ubHktcGVyc29uYWwtZGF0YS0=")
    if not path.exists():
        print(f"generating {args.households} households into {path} …", flush=True)
        started = time.perf_counter()
        command = [sys.executable, "-m", "bench.households_import", "--generate"]
        command += ["--households", str(args.households), "--file", str(path)]
        subprocess.run(command, env=env, check=True)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    outcomes = []
    for db in args.db or ["sqlite", "postgres"]:
        if db == "sqlite":
            database = var_dir() / "bench-households.sqlite3"
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(database) + suffix).unlink(missing_ok=True)
            env["DATABASE_URL"] = "sqlite:///" + database.resolve().as_posix()
        else:
            reason = prepare_postgres(args.pg_url, rebuild=True)
            if reason:
                print(f"PostgreSQL skipped: {reason}")
                continue
            env["DATABASE_URL"] = args.pg_url
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
            result = out.name
        command = [sys.executable, "-m", "bench.households_import", "--child", "--db", db]
        command += ["--file", str(path), "--out", result]
        subprocess.run(command, env=env, check=True)
        with open(result) as f:
            outcomes.append(json.load(f))
        os.unlink(result)
    print(format_table(outcomes))
    if args.json:
        Path(args.json).write_text(json.dumps(outcomes, indent=2))
    return 0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiendo.settings")
    import django

    django.setup()


if __name__ == "__main__":
    raise SystemExit(main())
