"""The benchmark behind ``make bench``: pivots over ~10 million values, on SQLite and PostgreSQL.

``python -m bench.pivot`` (from the repository root) generates (once, then reuses) a synthetic data set on the real
post-2025 unit tree — every commune, 60 indicators with a 2-option disaggregation, the 24
quarters 2020Q1-2025Q4 — and measures, as medians of repeated runs after one warm-up:

(a) the national pivot: the summed indicators × 34 provinces × 6 years, through
    :class:`Aggregator`;
(b) a province pivot: the province with most communes × its communes × the 4 quarters of
    2025, through :class:`Aggregator`;
(c) the floor: a plain ``GROUP BY`` over the raw value table computing the same sums (one
    for the national and one for the province pivot);
(d) save → visible: :func:`save_value` on one commune, then the province's figure read back
    through :class:`Aggregator` until it shows the new total;
(e) the national pivot of the cumulative ("last") indicators — one in four, each commune
    reporting them only in some quarters, not the same ones — through :class:`Aggregator`:
    every commune's latest value as of each year's end, summed per province; against its
    floor, one plain ``ROW_NUMBER()`` query per year over the raw values;
(f), (g) history: loading 2.000 change events, and today's view of a province whose
    communes went through two events each against the same pivot without history — see
    :mod:`bench.history`.

Each database gets its own process (Django is configured once per process, from
``DATABASE_URL``): the parent re-invokes ``python -m bench.pivot --child --db …`` and prints
one combined table. The demo database is never touched: SQLite uses ``var/bench.sqlite3``,
PostgreSQL the database ``tiendo_bench`` on 127.0.0.1:5432.

Nothing is cached between measured runs: every pivot reads the live value and rollup tables.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

GENERATOR_VERSION = 3
PROGRAMME_CODE = "BENCH"
DISAGGREGATION_CODE = "BENCH_NGUON_VON"
CATEGORIES = (("TW", "Ngân sách trung ương"), ("DP", "Ngân sách địa phương"))
INDICATOR_COUNT = 60
LAST_EVERY = 4  # every fourth indicator is cumulative ("last")
# A commune reports a cumulative indicator in one quarter out of REPORT_EVERY, which quarter
# depending on the commune and the indicator ("%%": the statement has parameters).
REPORT_EVERY = 5
REPORTS_SQL = f"((u.unit_id * 7 + i.id * 3 + q.n) %% {REPORT_EVERY}) = 0"
YEARS = tuple(range(2020, 2026))
PROVINCE_YEAR = 2025
SAVE_PERIOD = "2025Q4"  # the new communes exist from 2025-07-01, so save_value accepts it
MARKER_TABLE = "bench_marker"

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/tiendo_bench"

# Targets in milliseconds (from the issue): pivots on PostgreSQL, save → visible everywhere.
TARGETS = {"national": 1000.0, "province": 200.0, "save_visible": 1000.0, "events": 10_000.0}
# (g): today's view through the chains within this many times the pivot without history
HISTORY_RATIO = 2.0
PG_ONLY_TARGETS = {"national", "province"}

LABELS = {
    "national": "(a) national pivot",
    "province": "(b) province pivot",
    "floor_national": "(c) floor: GROUP BY, national",
    "floor_province": "(c) floor: GROUP BY, province",
    "save_visible": "(d) save → visible in pivot",
    "last_national": "(e) national pivot, last",
    "floor_last": "(e) floor: ROW_NUMBER, last",
    "events": "(f) load 2,000 change events",
    "history_today": "(g) province, 2 events/commune, today",
    "history_plain": "(g) same pivot, no history",
}
FLOOR_OF = {
    "national": "floor_national",
    "province": "floor_province",
    "last_national": "floor_last",
    "history_today": "history_plain",
}


# ---------------------------------------------------------------------------------------------
# Paths and databases (no Django needed)
# ---------------------------------------------------------------------------------------------
def var_dir() -> Path:
    return Path(os.environ.get("TIENDO_VAR_DIR", str(REPOSITORY / "var")))


def sqlite_path() -> Path:
    return var_dir() / "bench.sqlite3"


def sqlite_url() -> str:
    return "sqlite:///" + sqlite_path().resolve().as_posix()


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def prepare_postgres(url: str, *, rebuild: bool) -> str | None:
    """Create the benchmark database if missing (drop it first on rebuild).

    Returns None when ready, else the reason PostgreSQL is skipped.
    """
    import psycopg
    from psycopg import sql

    name = urlparse(url).path.lstrip("/")
    try:
        admin = psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        return f"no server answers at {urlparse(url).netloc} ({str(exc).strip().splitlines()[0]})"
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        ident = sql.Identifier(name)
        if exists and rebuild:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    return None


def prepare_sqlite(*, rebuild: bool) -> None:
    path = sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if rebuild:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# The data set (Django configured)
# ---------------------------------------------------------------------------------------------
@dataclass
class Tree:
    provinces: list  # the new provinces, by code
    communes: dict[int, list]  # province id -> its communes (scaled), by id


def new_tree(scale: float = 1.0) -> Tree:
    """The units of the tree in force since 1 July 2025; ``scale`` keeps a share of communes.

    Every province keeps at least one commune, so a small scale still has the full national
    shape (34 provinces).
    """
    from tiendo.units.models import REFORM_DATE, Level, Unit

    units = Unit.objects.valid_on(REFORM_DATE).administrative()
    provinces = list(units.filter(level=Level.PROVINCE).order_by("code", "pk"))
    communes: dict[int, list] = {p.pk: [] for p in provinces}
    for commune in units.filter(level=Level.COMMUNE, parent_id__in=list(communes)).order_by("pk"):
        communes[commune.parent_id].append(commune)
    for pk, members in communes.items():
        keep = max(1, round(len(members) * scale)) if members else 0
        communes[pk] = members[:keep]
    return Tree(provinces, communes)


def bench_indicators(aggregation: str | None = None) -> list:
    """The benchmark's indicators; of one aggregation type only (``"sum"``, ``"last"``)."""
    from tiendo.programmes.models import Indicator

    indicators = Indicator.objects.filter(programme__code=PROGRAMME_CODE)
    if aggregation is not None:
        indicators = indicators.filter(aggregation=aggregation)
    return list(indicators.select_related("disaggregation").order_by("order", "code"))


def quarters() -> list[tuple[int, str, date, date]]:
    from tiendo.programmes.periods import Period

    out = []
    for year in YEARS:
        for q in range(1, 5):
            period = Period.parse(f"{year}Q{q}")
            out.append((len(out) + 1, period.id, period.start, period.end))
    return out


def _create_programme():
    from tiendo.programmes.models import (
        Aggregation,
        CategoryOption,
        Disaggregation,
        Indicator,
        Programme,
        ValueType,
    )

    programme = Programme.objects.create(
        code=PROGRAMME_CODE,
        name="Chương trình dùng để đo hiệu năng (dữ liệu tổng hợp)",
        short_name="Đo hiệu năng",
        period=f"{YEARS[0]}-{YEARS[-1]}",
    )
    split, _ = Disaggregation.objects.get_or_create(
        code=DISAGGREGATION_CODE, defaults={"name": "Nguồn vốn"}
    )
    for order, (code, name) in enumerate(CATEGORIES):
        CategoryOption.objects.get_or_create(
            disaggregation=split, code=code, defaults={"name": name, "order": order}
        )
    Indicator.objects.bulk_create(
        Indicator(
            code=f"{PROGRAMME_CODE}_{n:02d}",
            name=f"Chỉ tiêu đo hiệu năng số {n}",
            programme=programme,
            measure_unit="triệu đồng",
            value_type=ValueType.NUMBER,
            aggregation=Aggregation.LAST if n % LAST_EVERY == 0 else Aggregation.SUM,
            disaggregation=split,
            order=n,
        )
        for n in range(1, INDICATOR_COUNT + 1)
    )
    return programme


def _helper_tables(cursor, connection, tree: Tree) -> None:
    """Small typed tables the INSERT … SELECT cross-joins: quarters, categories, communes."""
    ops = connection.ops
    for table in ("bench_quarter", "bench_category", "bench_commune"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        "CREATE TABLE bench_quarter (n integer PRIMARY KEY, period varchar(20) NOT NULL,"
        " period_start date NOT NULL, period_end date NOT NULL)"
    )
    cursor.executemany(
        "INSERT INTO bench_quarter VALUES (%s, %s, %s, %s)",
        [
            (n, pid, ops.adapt_datefield_value(s), ops.adapt_datefield_value(e))
            for n, pid, s, e in quarters()
        ],
    )
    cursor.execute("CREATE TABLE bench_category (n integer PRIMARY KEY, code varchar(40) NOT NULL)")
    cursor.executemany(
        "INSERT INTO bench_category VALUES (%s, %s)",
        [(n, code) for n, (code, _name) in enumerate(CATEGORIES, start=1)],
    )
    cursor.execute(
        "CREATE TABLE bench_commune (unit_id bigint PRIMARY KEY, province_id bigint NOT NULL)"
    )
    cursor.executemany(
        "INSERT INTO bench_commune VALUES (%s, %s)",
        [(c.pk, pk) for pk, members in tree.communes.items() for c in members],
    )


def _drop_helper_tables(cursor) -> None:
    for table in ("bench_quarter", "bench_category", "bench_commune"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


# A deterministic "hash" of the ids: values 1-1000 spread over units, indicators and periods
# ("%%" because the statement has parameters).
VALUE_SQL = "((u.unit_id * 7919 + i.id * 104729 + q.n * 2749 + c.n * 15485863) %% 1000) + 1"


def generate(tree: Tree, *, log=print) -> dict:
    """Insert the synthetic values in SQL (one INSERT … SELECT per quarter), then the rollups.

    Quarter by quarter, as values arrive in real life (every commune reports a quarter at
    about the same time), so the table's physical order is the one a live system has.
    Returns counts and timings. Expects no benchmark programme yet.
    """
    from django.db import connection

    from tiendo.data.models import DataValue
    from tiendo.data.services import rebuild_rollups

    started = time.perf_counter()
    programme = _create_programme()
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    table = DataValue._meta.db_table
    periods = quarters()
    with connection.cursor() as cursor:
        _helper_tables(cursor, connection, tree)
        inserted = 0
        for n, period, _start, _end in periods:
            cursor.execute(
                f"""
                INSERT INTO {table} (indicator_id, unit_id, period, period_start, period_end,
                                     category, value, qualifier, comment, created_at,
                                     updated_at)
                SELECT i.id, u.unit_id, q.period, q.period_start, q.period_end, c.code,
                       {VALUE_SQL}, '', '', %s, %s
                FROM bench_quarter q
                CROSS JOIN bench_commune u
                CROSS JOIN programmes_indicator i
                CROSS JOIN bench_category c
                WHERE q.n = %s AND i.programme_id = %s
                  AND (i.aggregation <> 'last' OR {REPORTS_SQL})
                ORDER BY u.unit_id, i.id, c.n
                """,
                [now, now, n, programme.pk],
            )
            inserted += cursor.rowcount
            if n % 4 == 0:
                log(f"  {period}: {inserted:,} values, {time.perf_counter() - started:.0f} s")
        _drop_helper_tables(cursor)
    values_done = time.perf_counter()
    rollups = rebuild_rollups()
    done = time.perf_counter()
    log(f"  rollups rebuilt: {rollups:,} rows in {done - values_done:.1f} s")
    return {
        "values": inserted,
        "rollups": rollups,
        "values_s": round(values_done - started, 1),
        "rollups_s": round(done - values_done, 1),
    }


def clear_bench_data() -> None:
    """Remove the benchmark programme and every value (the database is the benchmark's own)."""
    from django.db import connection

    from tiendo.data.models import DataValue, DataValueChange, Rollup
    from tiendo.programmes.models import Disaggregation, Programme

    tables = [m._meta.db_table for m in (Rollup, DataValueChange, DataValue)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for t in tables:
                cursor.execute(f"DELETE FROM {t}")
    Programme.objects.filter(code=PROGRAMME_CODE).delete()
    Disaggregation.objects.filter(code=DISAGGREGATION_CODE).delete()


# ---------------------------------------------------------------------------------------------
# Measurements (Django configured)
# ---------------------------------------------------------------------------------------------
@dataclass
class Measurement:
    name: str
    runs_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)


def _timed(fn, repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` runs, each from a clean slate: the previous result freed
    and a full garbage collection done before the clock starts (not during the run)."""
    runs = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - start) * 1000)
        del result
    return runs


def _dec(x) -> Decimal:
    return Decimal(str(x)).normalize() if x is not None else Decimal(0)


class Bench:
    def __init__(self, tree: Tree, indicators: list, last: list | None = None):
        """``indicators``: the summed ones, of (a)-(d); ``last``: the cumulative ones, of (e)."""
        from django.db import connection

        from tiendo.data.models import DataValue

        self.connection = connection
        self.tree = tree
        self.indicators = indicators
        self.indicator_ids = [i.pk for i in indicators]
        self._indicator_list = ", ".join(str(pk) for pk in self.indicator_ids)
        self.last = last or []
        self.provinces = tree.provinces
        # the province with most communes in the (scaled) data set, ties by code
        self.province = max(self.provinces, key=lambda p: (len(tree.communes[p.pk]), -int(p.pk)))
        self.communes = tree.communes[self.province.pk]
        self.value_table = DataValue._meta.db_table

    # (a)
    def national(self) -> dict:
        from tiendo.data.aggregation import Aggregator
        from tiendo.programmes.periods import Period

        return {
            year: Aggregator(self.indicators, Period.parse(str(year))).for_units(self.provinces)
            for year in YEARS
        }

    # (b)
    def province_pivot(self) -> dict:
        from tiendo.data.aggregation import Aggregator
        from tiendo.programmes.periods import Period

        return {
            q: Aggregator(self.indicators, Period.parse(f"{PROVINCE_YEAR}Q{q}")).for_units(
                self.communes
            )
            for q in range(1, 5)
        }

    # (c)
    def floor_national(self) -> list:
        ids = ", ".join(str(p.pk) for p in self.provinces)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT u.parent_id, dv.indicator_id, substr(dv.period, 1, 4), dv.category,
                       SUM(dv.value)
                FROM {self.value_table} dv JOIN units_unit u ON u.id = dv.unit_id
                WHERE u.parent_id IN ({ids}) AND dv.indicator_id IN ({self._indicator_list})
                  AND dv.period_start >= %s AND dv.period_end <= %s
                GROUP BY u.parent_id, dv.indicator_id, substr(dv.period, 1, 4), dv.category
                """,
                self._dates(date(YEARS[0], 1, 1), date(YEARS[-1], 12, 31)),
            )
            return cursor.fetchall()

    def floor_province(self) -> list:
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT dv.unit_id, dv.indicator_id, dv.period, dv.category, SUM(dv.value)
                FROM {self.value_table} dv JOIN units_unit u ON u.id = dv.unit_id
                WHERE u.parent_id = %s AND dv.indicator_id IN ({self._indicator_list})
                  AND dv.period_start >= %s AND dv.period_end <= %s
                GROUP BY dv.unit_id, dv.indicator_id, dv.period, dv.category
                """,
                [
                    self.province.pk,
                    *self._dates(date(PROVINCE_YEAR, 1, 1), date(PROVINCE_YEAR, 12, 31)),
                ],
            )
            return cursor.fetchall()

    # (e)
    def last_national(self) -> dict:
        from tiendo.data.aggregation import Aggregator
        from tiendo.programmes.periods import Period

        return {
            year: Aggregator(self.last, Period.parse(str(year))).for_units(self.provinces)
            for year in YEARS
        }

    def floor_last(self) -> dict:
        """Each commune's latest value as of each year's end, summed per province: one
        plain window query per year, as the pivot reads one year at a time."""
        ids = ", ".join(str(i.pk) for i in self.last)
        provinces = ", ".join(str(p.pk) for p in self.provinces)
        out = {}
        with self.connection.cursor() as cursor:
            for year in YEARS:
                cursor.execute(
                    f"""
                    SELECT u.parent_id, l.indicator_id, l.category, SUM(l.value)
                    FROM (
                        SELECT dv.unit_id, dv.indicator_id, dv.category, dv.value,
                               ROW_NUMBER() OVER (
                                   PARTITION BY dv.unit_id, dv.indicator_id, dv.category
                                   ORDER BY dv.period_end DESC, dv.period_start DESC
                               ) AS rn
                        FROM {self.value_table} dv
                        WHERE dv.indicator_id IN ({ids}) AND dv.period_end <= %s
                    ) l JOIN units_unit u ON u.id = l.unit_id
                    WHERE l.rn = 1 AND u.parent_id IN ({provinces})
                    GROUP BY u.parent_id, l.indicator_id, l.category
                    """,
                    self._dates(date(year, 12, 31)),
                )
                out[year] = cursor.fetchall()
        return out

    def _dates(self, *days):
        return [self.connection.ops.adapt_datefield_value(d) for d in days]

    # (d)
    def save_visible(self, run: int) -> float:
        """Save a changed value on a commune, then read the province until it shows it."""
        from tiendo.data.aggregation import Aggregator
        from tiendo.data.models import DataValue
        from tiendo.data.services import Entry, save_value

        indicator, commune, category = self.indicators[0], self.communes[0], CATEGORIES[0][0]
        current = DataValue.objects.get(
            indicator=indicator, unit=commune, period=SAVE_PERIOD, category=category
        ).value
        before = Aggregator(self.indicators, str(PROVINCE_YEAR)).for_unit(self.province)
        expected = before[indicator.code].categories[category] + run + 1
        start = time.perf_counter()
        save_value(Entry(indicator, commune, SAVE_PERIOD, current + run + 1, category))
        cells = Aggregator(self.indicators, str(PROVINCE_YEAR)).for_unit(self.province)
        elapsed = (time.perf_counter() - start) * 1000
        seen = cells[indicator.code].categories[category]
        # put the data set back as it was (not timed)
        save_value(Entry(indicator, commune, SAVE_PERIOD, current, category))
        if seen != expected:
            raise AssertionError(f"save → visible: expected {expected}, the pivot shows {seen}")
        return elapsed

    # checks: the pivots and the floor agree (not timed)
    def check(self, national: dict, province: dict, floor_nat: list, floor_prov: list) -> None:
        codes = {i.pk: i.code for i in self.indicators}
        floor = {(u, codes[i], int(y), c): _dec(v) for u, i, y, c, v in floor_nat}
        pivot = {
            (unit_id, code, year, c): _dec(v)
            for year, by_unit in national.items()
            for unit_id, cells in by_unit.items()
            for code, cell in cells.items()
            for c, v in cell.categories.items()
        }
        if pivot != floor:
            raise AssertionError(f"national pivot ≠ floor ({len(pivot)} vs {len(floor)} cells)")
        floor = {(u, codes[i], p, c): _dec(v) for u, i, p, c, v in floor_prov}
        pivot = {
            (unit_id, code, f"{PROVINCE_YEAR}Q{q}", c): _dec(v)
            for q, by_unit in province.items()
            for unit_id, cells in by_unit.items()
            for code, cell in cells.items()
            for c, v in cell.categories.items()
        }
        if pivot != floor:
            raise AssertionError(f"province pivot ≠ floor ({len(pivot)} vs {len(floor)} cells)")

    def check_last(self, last: dict, floor_last: dict) -> None:
        codes = {i.pk: i.code for i in self.last}
        floor = {
            (u, codes[i], year, c): _dec(v)
            for year, rows in floor_last.items()
            for u, i, c, v in rows
        }
        pivot = {
            (unit_id, code, year, c): _dec(v)
            for year, by_unit in last.items()
            for unit_id, cells in by_unit.items()
            for code, cell in cells.items()
            for c, v in cell.categories.items()
        }
        if pivot != floor:
            raise AssertionError(f"last pivot ≠ floor ({len(pivot)} vs {len(floor)} cells)")

    def run(self, repeat: int, *, log=print) -> list[Measurement]:
        # warm-up, which is also the check that the pivots and the floor agree
        self.check(
            self.national(), self.province_pivot(), self.floor_national(), self.floor_province()
        )
        measured = [
            ("national", self.national),
            ("floor_national", self.floor_national),
            ("province", self.province_pivot),
            ("floor_province", self.floor_province),
        ]
        if self.last:
            self.check_last(self.last_national(), self.floor_last())
            measured += [("last_national", self.last_national), ("floor_last", self.floor_last)]
        out = []
        for name, fn in measured:
            out.append(Measurement(name, _timed(fn, repeat)))
            log(f"  {LABELS[name]}: median {out[-1].median_ms:.1f} ms")
        self.save_visible(-1)  # warm-up
        runs = []
        for run in range(repeat):
            gc.collect()
            runs.append(self.save_visible(run))
        visible = Measurement("save_visible", runs)
        log(f"  {LABELS['save_visible']}: median {visible.median_ms:.1f} ms")
        out.append(visible)
        out += self.run_history(repeat, log=log)
        return out

    # (f), (g)
    def run_history(self, repeat: int, *, log=print) -> list[Measurement]:
        from django.db import transaction

        from bench import history

        communes = history.event_communes()
        history.load_events(communes)  # warm-up
        events = Measurement("events", [history.load_events(communes) for _ in range(repeat)])
        log(f"  {history.events_label()}: median {events.median_ms:.1f} ms")
        indicators = [*self.indicators, *self.last]
        out = [events]
        try:
            with transaction.atomic():
                copy = history.HistoryCopy(self.province, self.communes)
                copy.build()

                def plain():
                    units = [self.province, *self.communes]
                    return history.pivot_years(indicators, units, YEARS)

                def today():
                    return history.pivot_years(indicators, copy.targets(), YEARS, on=date.today())

                history.same_figures(plain(), today(), copy)  # also the warm-up
                for name, fn in (("history_today", today), ("history_plain", plain)):
                    out.append(Measurement(name, _timed(fn, repeat)))
                    log(f"  {LABELS[name]}: median {out[-1].median_ms:.1f} ms")
                raise history.Rollback
        except history.Rollback:
            pass
        return out


# ---------------------------------------------------------------------------------------------
# The child: one database
# ---------------------------------------------------------------------------------------------
def _marker(cursor) -> dict | None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (k varchar(40) PRIMARY KEY, v text NOT NULL)"
    )
    cursor.execute(f"SELECT v FROM {MARKER_TABLE} WHERE k = 'dataset'")
    row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _write_marker(cursor, data: dict) -> None:
    cursor.execute(f"DELETE FROM {MARKER_TABLE} WHERE k = 'dataset'")
    cursor.execute(f"INSERT INTO {MARKER_TABLE} (k, v) VALUES ('dataset', %s)", [json.dumps(data)])


def _sqlite_load_mode(connection, on: bool) -> None:
    """Fast, unsafe settings for the bulk load; back to the project's settings after it."""
    connection.close()
    if not on:
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1048576",
            "temp_store=MEMORY",
            "locking_mode=EXCLUSIVE",
        ):
            cursor.execute(f"PRAGMA {pragma}")


def _analyze(connection) -> None:
    from tiendo.data.models import DataValue, Rollup

    tables = [DataValue._meta.db_table, Rollup._meta.db_table, "units_unit", "units_unitancestor"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # what autovacuum would do soon after a bulk load, done now so it does not run
            # in the middle of the measurements
            cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")
        else:
            # full statistics: with sampled ones (analysis_limit) SQLite reads a quarter
            # through the unique key instead of the covering index, ten times slower
            cursor.execute("ANALYZE")


def _server_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + cursor.fetchone()[0].split()[0]
        cursor.execute("SELECT sqlite_version()")
        return "SQLite " + cursor.fetchone()[0]


def history_events_label() -> str:
    from bench import history

    return history.events_label()


def child(args) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiendo.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tiendo.units.models import REFORM_DATE, Level, Unit

    def log(msg: str) -> None:
        print(f"[{args.db}] {msg}", flush=True)

    call_command("migrate", interactive=False, verbosity=0)
    if not Unit.objects.valid_on(REFORM_DATE).filter(level=Level.COMMUNE).exists():
        log("loading the unit tree (tiendo units load) …")
        start = time.perf_counter()
        call_command("units", "load")
        log(f"unit tree loaded in {time.perf_counter() - start:.0f} s")

    tree = new_tree(args.scale)
    n_communes = sum(len(m) for m in tree.communes.values())
    wanted = {
        "version": GENERATOR_VERSION,
        "scale": args.scale,
        "communes": n_communes,
        "provinces": len(tree.provinces),
        "indicators": INDICATOR_COUNT,
        "quarters": len(quarters()),
        "categories": len(CATEGORIES),
    }
    with connection.cursor() as cursor:
        marker = _marker(cursor)
    if marker and all(marker.get(k) == v for k, v in wanted.items()):
        log(
            f"reusing the data set: {marker['values']:,} values "
            f"(generated {marker['generated_at']} in {marker['generation_s']:.0f} s)"
        )
        generation = None
    else:
        log(
            f"generating: {n_communes:,} communes × {INDICATOR_COUNT} indicators × "
            f"{len(CATEGORIES)} categories × {len(quarters())} quarters …"
        )
        start = time.perf_counter()
        clear_bench_data()
        if connection.vendor == "sqlite":
            _sqlite_load_mode(connection, True)
        stats = generate(tree, log=log)
        if connection.vendor == "sqlite":
            _sqlite_load_mode(connection, False)
        _analyze(connection)
        generation = round(time.perf_counter() - start, 1)
        marker = {
            **wanted,
            **stats,
            "generation_s": generation,
            "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        with connection.cursor() as cursor:
            _write_marker(cursor, marker)
        log(f"generated {stats['values']:,} values in {generation:.0f} s")

    bench = Bench(tree, bench_indicators("sum"), bench_indicators("last"))
    log(
        f"measuring, {args.repeat} runs after a warm-up; province pivot: {bench.province.name} "
        f"({len(bench.communes)} communes)"
    )
    measurements = bench.run(args.repeat, log=log)
    return {
        "db": args.db,
        "server": _server_version(connection),
        "values": marker["values"],
        "rollups": marker["rollups"],
        "communes": n_communes,
        "generation_s": generation,
        "cached_generation_s": marker["generation_s"],
        "generated_at": marker["generated_at"],
        "province": f"{bench.province.name} ({len(bench.communes)} communes)",
        "events_via": history_events_label(),
        "measurements": [asdict(m) | {"median_ms": m.median_ms} for m in measurements],
    }


# ---------------------------------------------------------------------------------------------
# The parent: machine, databases, table
# ---------------------------------------------------------------------------------------------
def machine() -> dict:
    import sqlite3

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or cpu
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(ram, 1) if ram else None,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def format_table(results: list[dict]) -> str:
    rows = [("database", "measurement", "median ms", "× floor", "target", "result")]
    for res in results:
        by_name = {m["name"]: m for m in res["measurements"]}
        db = "PostgreSQL" if res["db"] == "postgres" else "SQLite"
        for name in (
            "national",
            "province",
            "floor_national",
            "floor_province",
            "save_visible",
            "last_national",
            "floor_last",
            "events",
            "history_today",
            "history_plain",
        ):
            m = by_name.get(name)
            if m is None:
                continue
            own = name in ("save_visible", "events")
            floor = None if own else by_name.get(FLOOR_OF.get(name, name))
            ratio = f"{m['median_ms'] / floor['median_ms']:.3f}" if floor else "—"
            target = TARGETS.get(name)
            if name == "history_today" and floor:
                ok = m["median_ms"] <= HISTORY_RATIO * floor["median_ms"]
                verdict, target_text = ("pass" if ok else "FAIL"), f"≤ {HISTORY_RATIO:g} × (g)"
            elif target is None:
                verdict, target_text = "—", "—"
            else:
                target_text = f"≤ {target:,.0f} ms"
                ok = m["median_ms"] <= target
                if res["db"] != "postgres" and name in PG_ONLY_TARGETS:
                    verdict = "(pass)" if ok else "(miss)"
                else:
                    verdict = "pass" if ok else "FAIL"
            rows.append((db, LABELS[name], f"{m['median_ms']:,.1f}", ratio, target_text, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, 1, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(results: list[dict], skipped: list[str], info: dict, args) -> str:
    n_last = INDICATOR_COUNT // LAST_EVERY
    n_sum = INDICATOR_COUNT - n_last
    servers = ", ".join(r["server"] for r in results)
    lines = [
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}, "
        f"Python {info['python']}" + (f", {servers}" if servers else ""),
    ]
    for res in results:
        gen = (
            f"generated in {res['generation_s']:.0f} s"
            if res["generation_s"] is not None
            else f"cached (generated {res['generated_at']} in {res['cached_generation_s']:.0f} s)"
        )
        lines.append(
            f"{res['server']}: {res['values']:,} values on {res['communes']:,} communes, "
            f"{res['rollups']:,} rollup rows; {gen}; province pivot: {res['province']}"
        )
    lines.append(
        f"Medians of {args.repeat} runs after one warm-up. (a) = the {n_sum} summed indicators × "
        f"34 provinces × {len(YEARS)} years; (b) = one province × its communes × 4 quarters of "
        f"{PROVINCE_YEAR}; (e) = the {n_last} cumulative indicators × 34 provinces × "
        f"{len(YEARS)} years, each commune's latest value; × floor = ratio to the plain query "
        "over the raw values; pivot targets apply to PostgreSQL (SQLite verdicts in parentheses)."
    )
    for res in results:
        if res.get("events_via"):
            lines.append(
                f"{res['server']}: {res['events_via']}; (g) = the province pivot's communes, "
                f"each with two earlier versions (two change events), × {len(YEARS)} years, all "
                f"{INDICATOR_COUNT} indicators, in today's view, against the same pivot of the "
                f"province without history; target ≤ {HISTORY_RATIO:g} × the latter."
            )
    lines += skipped
    lines += ["", format_table(results)] if results else ["", "No database was measured."]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.pivot", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of the communes (default 1.0)"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="measured runs per figure (default 5)"
    )
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data set")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TIENDO_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        result = child(args)
        Path(args.result).write_text(json.dumps(result))
        return 0

    dbs = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    results, skipped = [], []
    for db in dbs:
        if db == "postgres":
            reason = prepare_postgres(args.postgres_url, rebuild=args.rebuild)
            if reason:
                line = f"PostgreSQL skipped: {reason}"
                print(line, flush=True)
                skipped.append(line)
                continue
            url = args.postgres_url
        else:
            prepare_sqlite(rebuild=args.rebuild)
            url = sqlite_url()
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = Path(handle.name)
        try:
            cmd = [
                sys.executable,
                "-m",
                "bench.pivot",
                "--child",
                "--db",
                db,
                "--scale",
                str(args.scale),
                "--repeat",
                str(args.repeat),
                "--result",
                str(out),
            ]
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "tiendo.settings",
                # the child imports this module as ``bench.pivot``, wherever it was started
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPOSITORY), os.environ.get("PYTHONPATH")) if p
                ),
                # measured as in production: no debug cursor recording every query
                "DEBUG": "false",
                "SECRET_KEY": os.environ.get("SECRET_KEY")
                or "tiendo-bench-" + os.urandom(16).hex(),
            }
            proc = subprocess.run(cmd, env=env, check=False)
            if proc.returncode != 0:
                line = f"{db}: the benchmark failed (exit {proc.returncode}), see above"
                print(line, flush=True)
                skipped.append(line)
                continue
            results.append(json.loads(out.read_text()))
        finally:
            out.unlink(missing_ok=True)

    info = machine()
    print(report(results, skipped, info, args))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": results}, indent=2))
    return 0 if results and len(results) == len(dbs) else 1


if __name__ == "__main__":
    sys.exit(main())
