"""Writing data values: one path for forms, imports, the API and the demo.

Every write checks the value, keeps the old one in the history, and moves the rollup rows of
the unit's ancestors by the difference, in one transaction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from tiendo.core.numbers import MAX_ABS_VALUE, shown, storable_problem, to_ascii  # noqa: F401
from tiendo.data.models import ChangeAction, DataValue, DataValueChange, Rollup
from tiendo.programmes.models import Indicator, ValueType
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.models import Unit


class DataEntryError(ValueError):
    """A value that cannot be saved; the message is Vietnamese and names the field."""


# Later apps refuse some writes (reporting: values of an approved submission are locked).
# A guard takes a batch — a list of (entry, period) pairs — and returns one item per pair:
# a Vietnamese message to refuse that entry, or None. One call answers for a whole save,
# so a guard can look its rows up in one query instead of one per value.
_WRITE_GUARDS: list = []


def register_write_guard(guard) -> None:
    if guard not in _WRITE_GUARDS:
        _WRITE_GUARDS.append(guard)


@dataclass(frozen=True)
class Entry:
    indicator: Indicator
    unit: Unit
    period: str
    value: Decimal | None  # None deletes the value
    category: str = ""
    comment: str = ""


@dataclass(frozen=True)
class SaveResult:
    action: str | None  # create / update / delete / None when nothing changed
    old_value: Decimal | None
    new_value: Decimal | None


MAX_NUMBER_LENGTH = 40  # "-12.345.678.901.234,5" is 21; longer text is not a figure


def parse_number(raw, *, field: str = "giá trị") -> Decimal | None:
    """Read a number as an official types it: ``66.992``, ``234,9``, ``1.234,5``, ``98,45``.

    A dot followed by exactly three digits is a thousands separator in Vietnamese; a comma
    is the decimal mark. Plain machine numbers (``234.9`` from a spreadsheet) also pass.
    Spaces (also non-breaking ones) and a leading ``+`` are allowed; other Unicode digits
    (``١٢٣``, full-width ``１２３``) are read as the ASCII digits they are. Refused, with a
    message naming ``field``: exponents (``1e5``), underscores (``1_000``, which Python's
    Decimal would take), ``NaN``/``Infinity`` and text longer than ``MAX_NUMBER_LENGTH``.
    Whether the number fits a value column is :func:`_check_own`'s question.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise DataEntryError(f"{field}: “{raw}” không phải là số.")
    if isinstance(raw, (int, float, Decimal)):
        if isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, float):
            value = Decimal(repr(raw)) if math.isfinite(raw) else Decimal("NaN")
        else:
            value = raw
        if not value.is_finite():
            raise DataEntryError(f"{field}: “{raw}” không phải là số.")
        return value
    raw = str(raw)
    if len(raw) > MAX_NUMBER_LENGTH:
        raise DataEntryError(
            f"{field}: “{shown(raw, 20)}” dài {len(raw)} ký tự, không phải một số "
            f"(tối đa {MAX_NUMBER_LENGTH} ký tự)."
        )
    text = "".join(to_ascii(raw).split())  # str.split() also splits on U+00A0, U+202F
    if text == "":
        return None
    if "_" in text:
        raise DataEntryError(
            f"{field}: “{shown(raw)}” có dấu gạch dưới; nhóm hàng nghìn bằng dấu chấm (1.000)."
        )
    if re.fullmatch(r"[+-]?[0-9.,]*[0-9][eE][+-]?[0-9]+", text):
        raise DataEntryError(
            f"{field}: “{shown(raw)}” viết dạng lũy thừa; xin gõ đủ các chữ số (100000, không 1e5)."
        )
    if not re.fullmatch(r"[+-]?[0-9.,]*[0-9][0-9.,]*", text):
        raise DataEntryError(f"{field}: “{shown(raw)}” không phải là số.")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?[0-9]{1,3}(\.[0-9]{3})+", text):
        # "66.992" or "1.234.567": dots group thousands, as on every Vietnamese screen
        text = text.replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise DataEntryError(f"{field}: “{shown(raw)}” không phải là số.") from exc


def _label(entry: Entry) -> str:
    return f"Chỉ tiêu “{entry.indicator.name}”"


def _check_own(entry: Entry) -> Period:
    """Everything about one entry except the write guards."""
    indicator = entry.indicator
    label = _label(entry)
    if indicator.is_computed:
        raise DataEntryError(f"{label} được tính theo công thức, không nhập trực tiếp.")
    try:
        period = Period.parse(entry.period)
    except PeriodError as exc:
        raise DataEntryError(str(exc)) from exc
    codes = indicator.category_codes()
    if entry.category not in codes:
        allowed = ", ".join(c for c in codes if c) or "(không phân tổ)"
        raise DataEntryError(f"{label}: phân tổ “{entry.category}” không hợp lệ; dùng: {allowed}.")
    if not entry.unit.is_valid_on(period.end) and not entry.unit.is_valid_on(period.start):
        raise DataEntryError(
            f"Đơn vị “{entry.unit.name}” không còn hoặc chưa tồn tại trong {period.label}."
        )
    value = entry.value
    if value is not None:
        problem = storable_problem(value)
        if problem:
            raise DataEntryError(f"{label}: giá trị {shown(value)} {problem}.")
        if indicator.value_type == ValueType.INTEGER and value != value.to_integral():
            raise DataEntryError(f"{label}: phải là số nguyên ({indicator.measure_unit}).")
        if value < 0 and indicator.value_type in (ValueType.INTEGER, ValueType.PERCENT):
            raise DataEntryError(f"{label}: không được âm.")
    return period


def check_entries(entries: list[Entry]) -> list[Period | DataEntryError]:
    """Check several entries together: item i is entry i's period, or the error refusing it.

    Each write guard is asked once for all the entries that passed the checks before it.
    """
    outcomes: list[Period | DataEntryError] = []
    for entry in entries:
        try:
            outcomes.append(_check_own(entry))
        except DataEntryError as exc:
            outcomes.append(exc)
    pending = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, Period)]
    for guard in _WRITE_GUARDS:
        if not pending:
            break
        refusals = guard([(entries[i], outcomes[i]) for i in pending])
        still = []
        for i, refusal in zip(pending, refusals, strict=True):
            if refusal:
                outcomes[i] = DataEntryError(f"{_label(entries[i])}: {refusal}")
            else:
                still.append(i)
        pending = still
    return outcomes


def _checked(entries: list[Entry]) -> list[Period]:
    """The entries' periods, or one DataEntryError listing every problem."""
    outcomes = check_entries(entries)
    problems = [str(o) for o in outcomes if isinstance(o, DataEntryError)]
    if problems:
        raise DataEntryError("\n".join(problems))
    return outcomes


def check_entry(entry: Entry) -> Period:
    outcome = check_entries([entry])[0]
    if isinstance(outcome, DataEntryError):
        raise outcome
    return outcome


def save_value(entry: Entry, *, user=None, source: str = "form") -> SaveResult:
    """Create, change or (value None) delete one value, with history and rollups."""
    return _write(entry, check_entry(entry), user=user, source=source)


def _write(entry: Entry, period: Period, *, user, source: str) -> SaveResult:
    """Write one checked entry."""
    with transaction.atomic():
        existing = (
            DataValue.objects.select_for_update()
            .filter(
                indicator=entry.indicator,
                unit=entry.unit,
                period=period.id,
                category=entry.category,
            )
            .first()
        )
        old = existing.value if existing else None
        if entry.value is None:
            if existing is None:
                return SaveResult(None, None, None)
            existing.delete()
            _log(entry, period, ChangeAction.DELETE, old, None, existing.comment, "", user, source)
            _move_rollups(entry, period, -old, -1)
            return SaveResult(ChangeAction.DELETE, old, None)
        if existing is None:
            DataValue.objects.create(
                indicator=entry.indicator,
                unit=entry.unit,
                period=period.id,
                period_start=period.start,
                period_end=period.end,
                category=entry.category,
                value=entry.value,
                comment=entry.comment,
                created_by=user,
                updated_by=user,
            )
            _log(
                entry,
                period,
                ChangeAction.CREATE,
                None,
                entry.value,
                "",
                entry.comment,
                user,
                source,
            )
            _move_rollups(entry, period, entry.value, 1)
            return SaveResult(ChangeAction.CREATE, None, entry.value)
        if existing.value == entry.value and existing.comment == entry.comment:
            return SaveResult(None, old, old)
        old_comment = existing.comment
        existing.value, existing.comment, existing.updated_by = entry.value, entry.comment, user
        existing.save(update_fields=["value", "comment", "updated_by", "updated_at"])
        _log(
            entry,
            period,
            ChangeAction.UPDATE,
            old,
            entry.value,
            old_comment,
            entry.comment,
            user,
            source,
        )
        if entry.value != old:
            _move_rollups(entry, period, entry.value - old, 0)
        return SaveResult(ChangeAction.UPDATE, old, entry.value)


def save_values(entries: list[Entry], *, user=None, source: str = "form") -> list[SaveResult]:
    """Save several values all or nothing: every entry is checked before any is written."""
    with transaction.atomic():
        periods = _checked(entries)
        return [
            _write(entry, period, user=user, source=source)
            for entry, period in zip(entries, periods, strict=True)
        ]


def _log(entry, period, action, old, new, old_comment, new_comment, user, source) -> None:
    DataValueChange.objects.create(
        indicator=entry.indicator,
        unit=entry.unit,
        period=period.id,
        category=entry.category,
        action=action,
        old_value=old,
        new_value=new,
        old_comment=old_comment,
        new_comment=new_comment,
        changed_by=user,
        source=source,
    )


def _move_rollups(entry: Entry, period: Period, delta: Decimal, count_delta: int) -> None:
    key = {"indicator": entry.indicator, "period": period.id, "category": entry.category}
    for ancestor_id in entry.unit.ancestor_ids:
        rows = Rollup.objects.filter(unit_id=ancestor_id, **key)
        if rows.update(total=F("total") + delta, count=F("count") + count_delta):
            if count_delta < 0:
                rows.filter(count__lte=0).delete()
            continue
        try:
            with transaction.atomic():
                Rollup.objects.create(
                    unit_id=ancestor_id,
                    period_start=period.start,
                    period_end=period.end,
                    total=delta,
                    count=max(count_delta, 0),
                    **key,
                )
        except IntegrityError:  # created meanwhile by a concurrent save
            rows.update(total=F("total") + delta, count=F("count") + count_delta)


def rebuild_rollups() -> int:
    """Recompute the whole rollup table from the values (after bulk loads). Returns rows."""
    dv, ua, ru = DataValue._meta.db_table, "units_unitancestor", Rollup._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ru}")
        cursor.execute(
            f"""
            INSERT INTO {ru} (indicator_id, unit_id, period, period_start, period_end,
                              category, total, count)
            SELECT dv.indicator_id, ua.ancestor_id, dv.period, MIN(dv.period_start),
                   MIN(dv.period_end), dv.category, SUM(dv.value), COUNT(*)
            FROM {dv} dv JOIN {ua} ua ON ua.unit_id = dv.unit_id AND ua.depth > 0
            GROUP BY dv.indicator_id, ua.ancestor_id, dv.period, dv.category
            """
        )
        cursor.execute(f"SELECT COUNT(*) FROM {ru}")
        return cursor.fetchone()[0]


def load_values(entries: list[Entry], *, user=None, source: str = "import") -> dict[str, int]:
    """Bulk path for large loads (demo, migrations of old spreadsheets).

    Same guarantees as :func:`save_values` — every entry checked first, all or nothing,
    history for every new or changed figure — but new values are inserted in bulk and the
    rollup is rebuilt once at the end instead of being moved value by value.
    """
    periods = {id(e): p for e, p in zip(entries, _checked(entries), strict=True)}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        existing = {}
        unit_ids = {e.unit.pk for e in entries}
        for dv in DataValue.objects.filter(
            unit_id__in=unit_ids, indicator_id__in={e.indicator.pk for e in entries}
        ):
            existing[(dv.indicator_id, dv.unit_id, dv.period, dv.category)] = dv
        new_values, history = [], []
        changed = []
        for entry in entries:
            period = periods[id(entry)]
            key = (entry.indicator.pk, entry.unit.pk, period.id, entry.category)
            current = existing.get(key)
            if current is None:
                if entry.value is None:
                    continue
                new_values.append(
                    DataValue(
                        indicator=entry.indicator,
                        unit=entry.unit,
                        period=period.id,
                        period_start=period.start,
                        period_end=period.end,
                        category=entry.category,
                        value=entry.value,
                        comment=entry.comment,
                        created_by=user,
                        updated_by=user,
                    )
                )
                history.append(
                    DataValueChange(
                        indicator=entry.indicator,
                        unit=entry.unit,
                        period=period.id,
                        category=entry.category,
                        action=ChangeAction.CREATE,
                        new_value=entry.value,
                        new_comment=entry.comment,
                        changed_by=user,
                        source=source,
                    )
                )
                counts["created"] += 1
            elif current.value == entry.value and current.comment == entry.comment:
                counts["unchanged"] += 1
            else:
                changed.append(entry)
        DataValue.objects.bulk_create(new_values, batch_size=1000)
        DataValueChange.objects.bulk_create(history, batch_size=1000)
        if new_values:
            rebuild_rollups()
        for entry in changed:
            save_value(entry, user=user, source=source)
            counts["updated"] += 1
    return counts
