"""The history measurements of ``make bench`` (imported by :mod:`bench.pivot`):

(f) loading 2.000 change events: each renames a commune of the tree before 2025 (which
    holds no values of the data set) on 01/01/2024 — ending it on 31/12/2023 and starting
    its new version, until 30/06/2025, with a link between them. Through the change-file service of :mod:`tiendo.units.changes`
    (``plan_changes`` then ``apply_changes``, 2.000 ``rename`` rows) when the project has
    it; else the rows such a load writes, in bulk through the ORM — the predecessors ended,
    the successors created with their paths and closure rows, the :class:`UnitChange`
    links — and the label says which;
(g) today's view of a province whose communes went through two events each: a copy of the
    province with most communes in which each commune has two earlier versions — the
    first until 31/12/2021, the second from 01/01/2022 to 30/06/2025, linked by two
    changes — and the province's values moved onto the version valid when they are dated;
    the pivot of the copy and its communes × the 6 years, summed and cumulative indicators,
    in today's view, against the same pivot of the province itself without history
    (history-true: every value on the commune of today). Both must give the same figures.

Everything is written inside a transaction rolled back at the end: the data set is left as
it was.
"""

from __future__ import annotations

import time
from datetime import date

EVENTS = 2000
EVENT_DAY = date(2024, 1, 1)  # inside the span of the communes before the 2025 reform
FIRST_END = date(2021, 12, 31)
SECOND_START = date(2022, 1, 1)
OLD_END = date(2025, 6, 30)
NEW_START = date(2025, 7, 1)


class Rollback(Exception):
    """Raised at the end of a measurement to roll its writes back."""


def _change_service():
    """``(plan_changes, apply_changes)`` when the project has the change-file service."""
    try:
        from tiendo.units.changes import apply_changes, plan_changes
    except ImportError:
        return None
    return plan_changes, apply_changes


def events_label() -> str:
    how = "change-file service" if _change_service() else "bulk rows through the ORM"
    return f"(f) load {EVENTS:,} change events ({how})"


def event_communes() -> list:
    """The communes the events rename: those of the tree before 2025, by pk."""
    from tiendo.units.models import PRE_REFORM_END, Level, Unit

    return list(
        Unit.objects.filter(level=Level.COMMUNE, valid_to=PRE_REFORM_END, valid_from__isnull=True)
        .administrative()
        .order_by("pk")[:EVENTS]
    )


def load_events(communes: list) -> float:
    """Milliseconds to load :data:`EVENTS` change events on ``communes`` (rolled back)."""
    from django.db import transaction

    service = _change_service()
    elapsed = 0.0
    try:
        with transaction.atomic():
            start = time.perf_counter()
            if service:
                _through_service(service, communes[:EVENTS])
            else:
                _through_orm(communes[:EVENTS])
            elapsed = (time.perf_counter() - start) * 1000
            raise Rollback
    except Rollback:
        pass
    return elapsed


def _through_service(service, communes: list) -> None:
    """One ``rename`` row an event. The communes' span covers the event's day, so the
    service keeps each as the successor (its later span) and creates its earlier version
    from the ``from_*`` columns (an event of an earlier era)."""
    plan_changes, apply_changes = service
    from tiendo.units.changes import read_change_file
    from tiendo.units.models import Unit

    parents = dict(
        Unit.objects.filter(pk__in={c.parent_id for c in communes}).values_list("pk", "code")
    )
    header = (
        "event,kind,effective,act_number,act_date,act_issuer,"
        "from_code,from_name,from_kind,from_parent,to_name\n"
    )
    lines = [
        f"E{n},rename,{EVENT_DAY.isoformat()},1/2023/NQ-BENCH,2023-11-20,Bench,"
        f"{c.code},{c.name} (trước 2024),{c.kind},{parents.get(c.parent_id, '')},{c.name}\n"
        for n, c in enumerate(communes)
    ]
    rows, problems = read_change_file("bench.csv", (header + "".join(lines)).encode())
    if problems:
        raise AssertionError(f"change file refused: {problems[0]}")
    plan = plan_changes(rows)
    if plan.problems:
        raise AssertionError(f"change plan refused: {plan.problems[0]}")
    apply_changes(plan, actor=None, source="bench")


def _through_orm(communes: list) -> None:
    """The rows of the events written in bulk: the predecessors ended, their successors
    created with their paths and closure rows, the links."""
    from tiendo.units.models import ChangeKind, Unit, UnitAncestor, UnitChange

    day_before = date.fromordinal(EVENT_DAY.toordinal() - 1)
    Unit.objects.filter(pk__in=[c.pk for c in communes]).update(valid_to=day_before)
    parents = dict(
        Unit.objects.filter(pk__in={c.parent_id for c in communes}).values_list("pk", "path")
    )
    successors = Unit.objects.bulk_create(
        Unit(
            code=c.code,
            name=f"{c.name} mới",
            kind=c.kind,
            level=c.level,
            parent_id=c.parent_id,
            valid_from=EVENT_DAY,
            valid_to=c.valid_to,
            source="bench",
        )
        for c in communes
    )
    closure = []
    for unit in successors:
        unit.path = f"{parents.get(unit.parent_id, '/')}{unit.pk}/"
        ids = [int(p) for p in unit.path.strip("/").split("/")]
        closure += [
            UnitAncestor(unit_id=unit.pk, ancestor_id=a, depth=d)
            for d, a in enumerate(reversed(ids))
        ]
    Unit.objects.bulk_update(successors, ["path"], batch_size=500)
    UnitAncestor.objects.bulk_create(closure, batch_size=2000)
    UnitChange.objects.bulk_create(
        UnitChange(
            kind=ChangeKind.RENAME,
            effective_date=EVENT_DAY,
            legal_basis="1/2023/NQ-BENCH",
            predecessor_id=c.pk,
            successor=s,
        )
        for c, s in zip(communes, successors, strict=True)
    )


class HistoryCopy:
    """The copy of a province whose communes went through two events each (see (g))."""

    def __init__(self, province, communes: list):
        self.province = province
        self.communes = communes
        self.new_province = None
        self.new_of: dict[int, object] = {}  # the real commune's pk -> the copy valid today

    def build(self) -> None:
        from tiendo.units.models import ChangeKind, Level, Unit, UnitChange, UnitKind

        def make(code, name, kind, level, parent, valid_from=None, valid_to=None):
            found = Unit(code=code, name=name, kind=kind, level=level, parent=parent)
            found.valid_from, found.valid_to, found.source = valid_from, valid_to, "bench"
            found.save()
            return found

        province, nation = self.province, self.province.parent
        code = f"H{province.code}"
        old = make(
            code, f"{province.name} (cũ)", province.kind, Level.PROVINCE, nation, None, OLD_END
        )
        district = make(
            f"{code}.1", "Huyện cũ", UnitKind.RURAL_DISTRICT, Level.DISTRICT, old, None, OLD_END
        )
        new = make(code, f"{province.name} (mới)", province.kind, Level.PROVINCE, nation, NEW_START)
        self.new_province = new
        links = [(old, new, NEW_START)]
        self.rows = []
        for commune in self.communes:
            kind, level = commune.kind, commune.level
            first = make(f"{commune.code}.1", commune.name, kind, level, district, None, FIRST_END)
            second = make(
                f"{commune.code}.2", commune.name, kind, level, district, SECOND_START, OLD_END
            )
            today = make(f"{commune.code}.3", commune.name, kind, level, new, NEW_START)
            links += [(first, second, SECOND_START), (second, today, NEW_START)]
            self.new_of[commune.pk] = today
            self.rows.append((commune.pk, first.pk, second.pk, today.pk))
        UnitChange.objects.bulk_create(
            UnitChange(kind=ChangeKind.MERGE, effective_date=day, predecessor=a, successor=b)
            for a, b, day in links
        )
        self.shadow_ids = [
            old.pk,
            district.pk,
            new.pk,
            *(pk for row in self.rows for pk in row[1:]),
        ]
        self._copy_values()

    def _copy_values(self) -> None:
        """The province's values onto the version valid when they are dated, then the
        rollups of the copy's units (its provinces and district)."""
        from django.db import connection

        from tiendo.data.models import DataValue, Rollup
        from tiendo.units.models import UnitAncestor

        values, rollups = DataValue._meta.db_table, Rollup._meta.db_table
        closure = UnitAncestor._meta.db_table
        ops = connection.ops
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_history")
            cursor.execute(
                "CREATE TABLE bench_history (unit_id bigint PRIMARY KEY, first_id bigint,"
                " second_id bigint, today_id bigint)"
            )
            cursor.executemany("INSERT INTO bench_history VALUES (%s, %s, %s, %s)", self.rows)
            columns = (
                "period, period_start, period_end, category, value, qualifier, comment, created_at,"
                " updated_at"
            )
            for target, condition, day in (
                ("first_id", "dv.period_end <= %s", FIRST_END),
                ("second_id", "dv.period_start >= %s AND dv.period_end <= %s", None),
                ("today_id", "dv.period_start >= %s", NEW_START),
            ):
                params = (
                    [ops.adapt_datefield_value(day)]
                    if day
                    else [
                        ops.adapt_datefield_value(SECOND_START),
                        ops.adapt_datefield_value(OLD_END),
                    ]
                )
                cursor.execute(
                    f"INSERT INTO {values} (indicator_id, unit_id, {columns}) "
                    f"SELECT dv.indicator_id, h.{target}, "
                    + ", ".join(f"dv.{c.strip()}" for c in columns.split(","))
                    + f" FROM {values} dv JOIN bench_history h ON h.unit_id = dv.unit_id"
                    f" WHERE {condition}",
                    params,
                )
            shadow = ", ".join(str(pk) for pk in self.shadow_ids)
            cursor.execute(
                f"INSERT INTO {rollups} (indicator_id, unit_id, period, period_start, period_end,"
                " category, total, count)"
                " SELECT dv.indicator_id, a.ancestor_id, dv.period, dv.period_start,"
                " dv.period_end, dv.category, SUM(dv.value), COUNT(*)"
                f" FROM {values} dv JOIN {closure} a ON a.unit_id = dv.unit_id"
                f" WHERE a.depth > 0 AND a.ancestor_id IN ({shadow})"
                " GROUP BY dv.indicator_id, a.ancestor_id, dv.period, dv.period_start,"
                " dv.period_end, dv.category"
            )
            cursor.execute("DROP TABLE bench_history")

    def targets(self) -> list:
        return [self.new_province, *(self.new_of[c.pk] for c in self.communes)]


def pivot_years(indicators, units, years, *, on=None) -> dict:
    """The cells of ``units`` per year (history-true, or in the tree of ``on``)."""
    from tiendo.data.aggregation import Aggregator
    from tiendo.programmes.periods import Period

    mappings: dict = {}
    return {
        year: Aggregator(indicators, Period.parse(str(year)), on=on, mappings=mappings).for_units(
            units
        )
        for year in years
    }


def same_figures(plain: dict, mapped: dict, copy: HistoryCopy) -> None:
    """The copy's figures in today's view are the province's history-true ones."""
    twin = {copy.new_province.pk: copy.province.pk} | {
        new.pk: pk for pk, new in copy.new_of.items()
    }

    def cells(result, rename=None):
        return {
            ((rename or {}).get(unit_id, unit_id), year, code, category): value.normalize()
            for year, by_unit in result.items()
            for unit_id, by_code in by_unit.items()
            for code, cell in by_code.items()
            for category, value in cell.categories.items()
        }

    left, right = cells(plain), cells(mapped, twin)
    if left != right:
        wrong = sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
        raise AssertionError(
            f"today's view of the history copy ≠ the province ({len(wrong)} cells differ, "
            f"first {wrong[0]}: {left.get(wrong[0])} vs {right.get(wrong[0])})"
        )
