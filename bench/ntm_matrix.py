"""The NTM pages at national scale: ``python -m bench.ntm_matrix`` (from the repository
root, ``DATABASE_URL`` naming a database that holds the real unit tree — ``tiendo units
load``; PostgreSQL is where the targets hold).

It writes (and removes at the end, unless ``--keep``: a later run then reuses them):

- a 19-criterion set for 2021–2025 and an assessment of every commune of the tree before
  the 2025 reform (about 10.000) for each of its five years, with one result a criterion
  (about 950.000 results), met or not by a fixed pattern;
- a 10-criterion set for 2026–2030 and an assessment of every one of the 3.321 communes
  in force since 1 July 2025 for 2026;

and measures, as medians of repeated runs after one warm-up:

(a) the province matrix: what the page reads for the old province with most communes in
    2024 — its summary (communes, assessed, meeting every criterion, per band, average),
    the row count, the first page of rows with their 19 results, the district choices —
    through :class:`tiendo.ntm.matrix.Matrix` (target ≤ 200 ms on PostgreSQL),
    and the same page served (the view and its template rendered);
(b) the floor of (a): the same three reads written as plain SQL (the counts, the first
    page of communes with their assessment, the page's results);
(c) the whole province matrix (every row, as the Excel export reads it);
(d) the national counts by band in 2024 (the nation's summary), and its floor, one plain
    aggregate over the same rows;
(e) the province's progress by year (five years, bands and averages);
(f) a commune's scorecard;
(g) the new province with most communes in 2026 (10 criteria), and the same province in
    2024 in the tree of today (the old communes re-expressed through the chains).

The rows are committed and the tables vacuumed before measuring, as in production (rows
of a transaction still open, or never analysed, make PostgreSQL plan and read
differently). ``measure(repeat, log=...)`` returns one dict a measurement (name, label, runs_ms,
median_ms, target_ms); the command prints them as a table.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date

SET_OLD = "BENCH-NTM-2021-2025"
SET_NEW = "BENCH-NTM-2026-2030"
OLD_YEARS = (2021, 2022, 2023, 2024, 2025)
NEW_YEAR = 2026
MATRIX_YEAR = 2024
PER_PAGE = 100
TARGETS = {"province_matrix": 200.0, "province_page": 200.0, "national_bands": 100.0}
LABELS = {
    "province_matrix": "(a) province matrix page (old tree, 2024, 19 criteria)",
    "province_plain": "(b) floor of (a): the same reads in plain SQL",
    "province_page": "(a) the same page served: view and template, 100 rows",
    "province_all_rows": "(c) province matrix, every row (Excel export)",
    "national_bands": "(d) national counts by band, 2024",
    "national_plain": "(d) floor: the same counts in one plain GROUP BY",
    "province_progress": "(e) province progress by year (5 years)",
    "scorecard": "(f) one commune's scorecard",
    "new_province_matrix": "(g) new province matrix (2026, 10 criteria)",
    "new_province_today_2024": "(g) new province, 2024 in today's tree (chains)",
}


def _bands(total: int) -> list[dict]:
    if total == 19:
        return [
            {"label": "19 tiêu chí", "min": 19, "max": 19},
            {"label": "15–18 tiêu chí", "min": 15, "max": 18},
            {"label": "10–14 tiêu chí", "min": 10, "max": 14},
            {"label": "5–9 tiêu chí", "min": 5, "max": 9},
            {"label": "Dưới 5 tiêu chí", "min": 0, "max": 4},
        ]
    return [
        {"label": f"{total} tiêu chí", "min": total, "max": total},
        {"label": f"{total // 2}–{total - 1} tiêu chí", "min": total // 2, "max": total - 1},
        {"label": f"Dưới {total // 2} tiêu chí", "min": 0, "max": total // 2 - 1},
    ]


def _make_set(code: str, total: int, valid_from: date, valid_to: date):
    from tiendo.ntm.models import CriteriaSet, Criterion

    cs = CriteriaSet.objects.create(
        code=code,
        name=f"Bộ tiêu chí đo hiệu năng {code}",
        valid_from=valid_from,
        valid_to=valid_to,
        decisions="bench",
        bands=_bands(total),
    )
    Criterion.objects.bulk_create(
        Criterion(criteria_set=cs, number=n, name=f"Tiêu chí {n}") for n in range(1, total + 1)
    )
    return cs


def generate(log=print) -> dict:
    """The two sets and their assessments, in bulk SQL (see the module's doc)."""
    from django.db import connection
    from django.utils import timezone

    from tiendo.ntm.models import Assessment, CriterionResult
    from tiendo.units.models import PRE_REFORM_END, REFORM_DATE, Level, Unit, UnitKind

    start = time.perf_counter()
    old = _make_set(SET_OLD, 19, date(2021, 1, 1), date(2025, 12, 31))
    new = _make_set(SET_NEW, 10, date(2026, 1, 1), date(2030, 12, 31))
    communes = Unit.objects.filter(level=Level.COMMUNE).exclude(kind=UnitKind.AGENCY)
    old_ids = communes.filter(valid_to=PRE_REFORM_END)
    new_ids = communes.filter(valid_from=REFORM_DATE)
    a_table = connection.ops.quote_name(Assessment._meta.db_table)
    r_table = connection.ops.quote_name(CriterionResult._meta.db_table)
    c_table = connection.ops.quote_name("ntm_criterion")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    counts = {}
    with connection.cursor() as cursor:
        for cs, units, years in ((old, old_ids, OLD_YEARS), (new, new_ids, (NEW_YEAR,))):
            unit_sql, unit_params = units.values("pk").query.sql_with_params()
            for year in years:
                cursor.execute(
                    f"INSERT INTO {a_table} (unit_id, criteria_set_id, year, applies_to,"
                    " criteria_met, level, note, illustrative, version, updated_at)"
                    f" SELECT u.pk, %s, %s, '', 0, 'none', '', %s, 1, %s FROM ({unit_sql}) u",
                    [cs.pk, year, False, now, *unit_params],
                )
            # a fixed pattern: most criteria met, some communes meeting all of them
            cursor.execute(
                f"INSERT INTO {r_table} (assessment_id, criterion_id, met, derived, evidence)"
                f" SELECT a.id, c.id, ((a.unit_id * 7 + c.number * 3 + a.year) %% 6) <> 0"
                f"   OR (a.unit_id %% 4) = 0, %s, ''"
                f" FROM {a_table} a JOIN {c_table} c ON c.criteria_set_id = a.criteria_set_id"
                " WHERE a.criteria_set_id = %s",
                [False, cs.pk],
            )
            total = cs.criteria.count()
            cursor.execute(
                f"UPDATE {a_table} SET criteria_met = (SELECT COUNT(*) FROM {r_table} r"
                f" WHERE r.assessment_id = {a_table}.id AND r.met) WHERE criteria_set_id = %s",
                [cs.pk],
            )
            cursor.execute(
                f"UPDATE {a_table} SET level = 'standard' WHERE criteria_set_id = %s"
                " AND criteria_met = %s",
                [cs.pk, total],
            )
            counts[cs.code] = Assessment.objects.filter(criteria_set=cs).count()
    counts["results"] = CriterionResult.objects.filter(
        assessment__criteria_set__in=[old, new]
    ).count()
    counts["generation_s"] = round(time.perf_counter() - start, 1)
    log(
        f"generated {counts[SET_OLD]:,} + {counts[SET_NEW]:,} assessments, "
        f"{counts['results']:,} results in {counts['generation_s']} s"
    )
    return counts


def _largest(valid):
    """The province with most communes among the provinces ``valid`` selects."""
    from django.db.models import Count, Q

    from tiendo.units.models import Level, Unit, UnitKind

    communes = Q(descendant_links__unit__level=Level.COMMUNE) & ~Q(
        descendant_links__unit__kind=UnitKind.AGENCY
    )
    return (
        Unit.objects.filter(valid, level=Level.PROVINCE)
        .annotate(n=Count("descendant_links", filter=communes))
        .order_by("-n", "code")
        .first()
    )


def _timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(round((time.perf_counter() - start) * 1000, 2))
    return runs


def _plain_page(area, cs, year: int):
    """The floor of (a): the same three reads in plain SQL — the area's counts, the first
    page of communes with their assessment, the page's results."""
    from django.db import connection

    total = cs.criteria.count()
    bands = "".join(
        f", SUM(CASE WHEN a.criteria_met BETWEEN {int(b['min'])} AND {int(b['max'])}"
        " THEN 1 ELSE 0 END)"
        for b in cs.bands
    )
    area_join = (
        " FROM units_unitancestor ua JOIN units_unit u ON u.id = ua.unit_id"
        " LEFT JOIN ntm_assessment a ON a.unit_id = u.id AND a.criteria_set_id = %s"
        " AND a.year = %s WHERE ua.ancestor_id = %s AND u.level = 3"
    )
    params = [cs.pk, year, area.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(a.id), SUM(CASE WHEN a.criteria_met >= %s THEN 1 ELSE 0 END),"
            f" SUM(a.criteria_met){bands}{area_join}",
            [total, *params],
        )
        counts = cursor.fetchone()
        cursor.execute(
            "SELECT u.id, u.code, u.name, p.name, a.id, a.criteria_met"
            " FROM units_unitancestor ua JOIN units_unit u ON u.id = ua.unit_id"
            " LEFT JOIN units_unit p ON p.id = u.parent_id"
            " LEFT JOIN ntm_assessment a ON a.unit_id = u.id AND a.criteria_set_id = %s"
            " AND a.year = %s WHERE ua.ancestor_id = %s AND u.level = 3"
            f" ORDER BY p.code, u.code LIMIT {PER_PAGE}",
            params,
        )
        rows = cursor.fetchall()
        ids = [r[4] for r in rows if r[4] is not None]
        results = []
        if ids:
            cursor.execute(
                "SELECT assessment_id, criterion_id, met FROM ntm_criterionresult"
                f" WHERE assessment_id IN ({', '.join(['%s'] * len(ids))})",
                ids,
            )
            results = cursor.fetchall()
    return counts, rows, results


def _served(area, cs, year: int) -> bytes:
    """The matrix page as the server answers it (the view and its template), for a
    system administrator (no session, no middleware)."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.test import RequestFactory

    from tiendo.accounts.models import Role, User
    from tiendo.ntm import views

    request = RequestFactory().get(
        "/nong-thon-moi/bang-tieu-chi/", {"unit": area.pk, "set": cs.code, "year": year}
    )
    request.user = User(username="bench", role=Role.ADMIN, is_superuser=True)
    request._messages = CookieStorage(request)
    response = views.matrix(request)
    assert response.status_code == 200, response.status_code
    return response.content


def _vacuum(log) -> None:
    """Fresh statistics and visibility maps, as autovacuum keeps them in production (a tree
    just loaded and rows just written have none)."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with connection.cursor() as cursor:  # VACUUM cannot run inside a transaction
            cursor.execute("ANALYZE")
        return
    tables = ("ntm_assessment", "ntm_criterionresult", "ntm_criterion", "ntm_criteriaset")
    tables += ("units_unit", "units_unitancestor", "units_unitchange")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(f"vacuum analyze in {time.perf_counter() - start:.1f} s")


def clear(log=print) -> None:
    """Remove what :func:`generate` wrote."""
    from django.db import transaction

    from tiendo.ntm.models import Assessment, CriteriaSet, CriterionResult

    sets = CriteriaSet.objects.filter(code__in=[SET_OLD, SET_NEW])
    with transaction.atomic():
        CriterionResult.objects.filter(assessment__criteria_set__in=sets)._raw_delete("default")
        Assessment.objects.filter(criteria_set__in=sets)._raw_delete("default")
        for cs in sets:
            cs.criteria.all().delete()
            cs.delete()
    log("bench assessments removed")


def measure(repeat: int = 5, *, log=print, keep: bool = False) -> list[dict]:
    """Generate (unless a kept run left the data), measure every figure of the module's
    doc, then remove the data unless ``keep``."""
    from django.db import transaction
    from django.db.models import Q

    from tiendo.ntm import matrix as q
    from tiendo.ntm.models import CriteriaSet
    from tiendo.units.models import PRE_REFORM_END, REFORM_DATE, Level, Unit

    if CriteriaSet.objects.filter(code__in=[SET_OLD, SET_NEW]).count() != 2:
        clear(log=lambda _m: None)
        with transaction.atomic():
            generate(log=log)
        _vacuum(log)
    else:
        log("reusing the assessments of a kept run")
    try:
        return _measure(repeat, log, q, Q, CriteriaSet, PRE_REFORM_END, REFORM_DATE, Level, Unit)
    finally:
        if not keep:
            clear(log=log)


def _measure(repeat, log, q, Q, CriteriaSet, PRE_REFORM_END, REFORM_DATE, Level, Unit):
    out: list[dict] = []
    old = CriteriaSet.objects.get(code=SET_OLD)
    new = CriteriaSet.objects.get(code=SET_NEW)
    province = _largest(Q(valid_to=PRE_REFORM_END))
    new_province = _largest(Q(valid_from=REFORM_DATE))
    nation = Unit.objects.filter(level=Level.NATION).first()
    commune = (
        Unit.objects.filter(ancestor_links__ancestor=province, level=Level.COMMUNE)
        .order_by("code")
        .first()
    )
    today = date.today()

    def page(area, cs, year, day=None):
        table = q.Matrix(area, cs, year, day=day)
        summary = table.summary()
        table.count(summary)
        rows = table.rows(0, PER_PAGE)
        table.districts()
        return rows

    def whole(area, cs, year):
        return q.Matrix(area, cs, year).rows()

    rows = page(province, old, MATRIX_YEAR)
    counts, plain_rows, _results = _plain_page(province, old, MATRIX_YEAR)
    summary = q.Matrix(province, old, MATRIX_YEAR).summary()
    log(
        f"province: {province.name} ({summary.units} communes); new province: "
        f"{new_province.name}; first page {len(rows)} rows"
    )
    # the matrix and the plain SQL agree
    assert (summary.units, summary.assessed, summary.met_all) == tuple(counts[:3]), counts
    assert summary.bands == list(counts[4:]), (summary.bands, counts)
    assert [r.unit_id for r in rows] == [r[0] for r in plain_rows]
    figures = [
        ("province_matrix", lambda: page(province, old, MATRIX_YEAR)),
        ("province_plain", lambda: _plain_page(province, old, MATRIX_YEAR)),
        ("province_page", lambda: _served(province, old, MATRIX_YEAR)),
        ("province_all_rows", lambda: whole(province, old, MATRIX_YEAR)),
        ("national_bands", lambda: q.Matrix(nation, old, MATRIX_YEAR).summary()),
        ("national_plain", lambda: _plain_page(nation, old, MATRIX_YEAR)[0]),
        ("province_progress", lambda: q.progress(province, old)),
        ("scorecard", lambda: q.scorecard(commune)),
        ("new_province_matrix", lambda: page(new_province, new, NEW_YEAR)),
        ("new_province_today_2024", lambda: page(new_province, old, MATRIX_YEAR, day=today)),
    ]
    for name, fn in figures:
        runs = _timed(fn, repeat)
        entry = {
            "name": name,
            "label": LABELS[name],
            "runs_ms": runs,
            "median_ms": round(statistics.median(runs), 2),
            "target_ms": TARGETS.get(name),
        }
        out.append(entry)
        log(f"{entry['label']}: {entry['median_ms']} ms")
    return out


def format_table(results: list[dict], vendor: str) -> str:
    lines = [f"{'measurement':58} {'median ms':>10} {'target':>8}  result"]
    for r in results:
        target = r["target_ms"]
        verdict = ""
        if target is not None:
            verdict = "ok" if r["median_ms"] <= target else "SLOW"
            if vendor != "postgresql":
                verdict += " (target on PostgreSQL)"
        shown = f"{target:.0f}" if target is not None else ""
        lines.append(f"{r['label']:58} {r['median_ms']:>10.1f} {shown:>8}  {verdict}")
    return "\n".join(lines)


def main(argv=None) -> int:  # pragma: no cover - command-line entry
    argv = sys.argv[1:] if argv is None else argv
    keep = "--keep" in argv
    argv = [a for a in argv if a != "--keep"]
    repeat = int(argv[0]) if argv else 5
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiendo.settings")
    import django

    django.setup()
    from django.db import connection

    results = measure(repeat, keep=keep)
    print(f"\n{connection.vendor} ({connection.settings_dict['NAME']}), {repeat} runs each")
    print(format_table(results, connection.vendor))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
