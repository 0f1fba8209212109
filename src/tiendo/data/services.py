"""Writing data values: one path for forms, imports, the API and the demo.

Every write checks the value, keeps the old one in the history, and moves the rollup rows of
the unit's ancestors by the difference, in one transaction.

Versions
--------
The version of a figure — of its key (indicator, unit, period, category), whether a value is
stored or not — is the id of its latest history row, 0 when it has none. History ids only
grow, so a figure deleted and typed again never returns to a version a stale form carries,
and "the cell was empty when I loaded the form" is a version too. A form, a submission or an
Excel file remembers the version of every figure it showed; an entry carrying it
(``expected_version``) is written only if the figure is still at that version, checked
under the row lock in :func:`_write`, so every way of entering data gets the same check.
"""

from __future__ import annotations

import contextvars
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_datetime, format_number
from tiendo.core.numbers import MAX_ABS_VALUE, MAX_DECIMAL_PLACES, shown, to_ascii  # noqa: F401
from tiendo.data.models import ChangeAction, DataValue, DataValueChange, Rollup
from tiendo.data.qualifiers import qualified, split_qualifier
from tiendo.programmes.models import Indicator, ValueRefused
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.models import Unit


class DataEntryError(TiendoError, ValueError):
    """A value that cannot be saved; the message is Vietnamese and names the field.

    Refusing several entries at once, ``errors`` lists the error of each, in order."""

    code = "data.refused"

    @classmethod
    def of_several(cls, errors: list[DataEntryError]) -> DataEntryError:
        """One error listing every refusal, one per line; its code is the first one's."""
        combined = cls("\n".join(str(e) for e in errors), code=errors[0].code)
        combined.errors = errors
        return combined


# Later apps refuse some writes (reporting: values of an approved submission are locked).
# A guard takes a batch — a list of (entry, period) pairs — and returns one item per pair:
# a Vietnamese message to refuse that entry, or None. One call answers for a whole save,
# so a guard can look its rows up in one query instead of one per value.
_WRITE_GUARDS: list = []


def register_write_guard(guard) -> None:
    if guard not in _WRITE_GUARDS:
        _WRITE_GUARDS.append(guard)


# A figure an app computes from its own records (the NTM engine's counts of communes, from
# the assessments) is written without the guards: they protect what people enter — an
# approved report, a closed entry window, a computed figure typed by hand — and must not
# refuse the record the figure follows. Every other check and the history still apply.
_COMPUTING = contextvars.ContextVar("tiendo_computed_write", default=False)


@contextmanager
def computed_write():
    """Within it, :func:`save_values` and :func:`load_values` skip the write guards."""
    token = _COMPUTING.set(True)
    try:
        yield
    finally:
        _COMPUTING.reset(token)


@dataclass(frozen=True)
class Entry:
    indicator: Indicator
    unit: Unit
    period: str
    value: Decimal | None  # None deletes the value
    category: str = ""
    comment: str = ""
    # the figure's version when the user saw it (see the module's head); None: no check
    expected_version: int | None = None
    qualifier: str = ""  # "about", "over"…: the word before the figure (tiendo.data.qualifiers)


@dataclass(frozen=True)
class SaveResult:
    action: str | None  # create / update / delete / None when nothing changed
    old_value: Decimal | None
    new_value: Decimal | None
    old_qualifier: str = ""
    new_qualifier: str = ""


MAX_NUMBER_LENGTH = 40  # "-12.345.678.901.234,5" is 21; longer text is not a figure


# Where the separators of a typed number may stand (see parse_number).
_THOUSANDS = r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+"  # 1.234 / 66.992 / 1.234.567
_WITH_COMMA = re.compile(rf"[+-]?(?:[0-9]*|{_THOUSANDS}),[0-9]*")  # 234,9 / 1.234,5 / ,5
_DOTS_GROUP_THOUSANDS = re.compile(rf"[+-]?{_THOUSANDS}")
_ONE_DOT = re.compile(r"[+-]?[0-9]*\.[0-9]*")  # a machine decimal: 1.5 / 234.9 / 0.234


def parse_number(raw, *, field: str = "giá trị") -> Decimal | None:
    """Read a number as an official types it: ``66.992``, ``234,9``, ``1.234,5``, ``98,45``.

    The rule for the separators, Vietnamese first:

    * a comma is the decimal mark, and there is at most one (``234,9``, ``1234,5``);
    * dots group thousands: a dot followed by exactly three digits, after a first group of
      one to three digits that does not start with 0 — so ``1.234`` is one thousand two
      hundred and thirty-four, ``1.234.567`` and ``1.234,5`` read as written on every
      Vietnamese screen, whatever an English reader would make of them;
    * with no comma, one dot that does not group thousands is a machine decimal mark, as a
      number copied from a spreadsheet has it: ``1.5``, ``234.9``, ``0.234``, ``1234.567``;
    * anything else is ambiguous and refused (code ``number.ambiguous``), never guessed: a
      dot after the comma (``1,234.5``, English style), dots that do not group thousands
      before a comma (``1.23,5``) or several such dots (``1.23.4``); two commas
      (``1,2,3``, ``1.234,5,6``) are not a number (``number.not_a_number``).

    Spaces (also non-breaking ones) and a leading ``+`` are allowed; other Unicode digits
    (``١٢٣``, full-width ``１２３``) are read as the ASCII digits they are. Refused, with a
    message naming ``field``: exponents (``1e5``), underscores (``1_000``, which Python's
    Decimal would take), ``NaN``/``Infinity`` and text longer than ``MAX_NUMBER_LENGTH``.
    Whether the number fits a value column is :func:`_check_own`'s question.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise _not_a_number(field, raw)
    if isinstance(raw, (int, float, Decimal)):
        if isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, float):
            value = Decimal(repr(raw)) if math.isfinite(raw) else Decimal("NaN")
        else:
            value = raw
        if not value.is_finite():
            raise _not_a_number(field, raw)
        return value
    raw = str(raw)
    if len(raw) > MAX_NUMBER_LENGTH:
        raise DataEntryError(
            _(
                "%(field)s: “%(text)s” dài %(length)d ký tự, không phải một số (tối đa %(most)d ký tự)."
            ),
            code="number.too_long",
            field=field,
            text=shown(raw, 20),
            length=len(raw),
            most=MAX_NUMBER_LENGTH,
        )
    text = "".join(to_ascii(raw).split())  # str.split() also splits on U+00A0, U+202F
    if text == "":
        return None
    if "_" in text:
        raise DataEntryError(
            _("%(field)s: “%(text)s” có dấu gạch dưới; nhóm hàng nghìn bằng dấu chấm (1.000)."),
            code="number.underscore",
            field=field,
            text=shown(raw),
        )
    if re.fullmatch(r"[+-]?[0-9.,]*[0-9][eE][+-]?[0-9]+", text):
        raise DataEntryError(
            _(
                "%(field)s: “%(text)s” viết dạng lũy thừa; xin gõ đủ các chữ số (100000, không 1e5)."
            ),
            code="number.exponent",
            field=field,
            text=shown(raw),
        )
    if not re.fullmatch(r"[+-]?[0-9.,]*[0-9][0-9.,]*", text):
        raise _not_a_number(field, raw)
    try:
        return Decimal(_machine_number(text, field, raw))
    except InvalidOperation as exc:
        raise _not_a_number(field, raw) from exc


def parse_qualified(raw, *, field: str = "giá trị") -> tuple[Decimal | None, str]:
    """A figure as an official writes it, with an optional leading qualifier word:
    ``khoảng 334`` → ``(334, "about")``, ``ước 12,5`` → ``(12.5, "estimated")``, ``1.234``
    → ``(1234, "")``. The word is read without regard to accents or case (``khoang 334``);
    the number as :func:`parse_number` reads it. A word with no number after it, or
    followed by something that is not a number (``khoảng abc``), is refused."""
    if raw is None or not isinstance(raw, str):
        return parse_number(raw, field=field), ""
    qualifier, word, rest = split_qualifier(raw)
    if not qualifier:
        return parse_number(raw, field=field), ""
    try:
        value = parse_number(rest, field=field) if rest else None
    except DataEntryError as exc:
        raise _qualifier_without_number(field, raw, word) from exc
    if value is None:
        raise _qualifier_without_number(field, raw, word)
    return value, qualifier


def _qualifier_without_number(field: str, raw: str, word: str) -> DataEntryError:
    return DataEntryError(
        _("%(field)s: “%(text)s”: sau chữ “%(word)s” phải là một số (ví dụ: %(word)s 334)."),
        code="number.qualifier_without_number",
        field=field,
        text=shown(raw),
        word=word,
    )


def format_figure(value, qualifier: str = "", decimals: int | None = None) -> str:
    """A stored figure as people read it: ``khoảng 334``, ``1.234,5``; None is blank."""
    return qualified(format_number(value, decimals), qualifier)


def indicator_figure(indicator: Indicator, value, qualifier: str = "") -> str:
    """A stored figure of ``indicator`` as people read it: in its display unit, exactly,
    with its qualifier (``khoảng 1,5`` tỷ đồng); None is blank."""
    return qualified(indicator.exact_text(value), qualifier)


def _machine_number(text: str, field: str, raw: str) -> str:
    """``text`` (sign, digits, dots and commas only) with the separators read by the rule
    of :func:`parse_number`, as Python's Decimal reads a number; refused if ambiguous."""
    if "," in text:
        if text.count(",") > 1:
            raise DataEntryError(
                _(
                    "%(field)s: “%(text)s” không phải là số: có nhiều dấu phẩy, trong khi chỉ "
                    "một dấu phẩy đứng trước phần thập phân (1.234,5)."
                ),
                code="number.not_a_number",
                field=field,
                text=shown(raw),
            )
        if _WITH_COMMA.fullmatch(text):
            return text.replace(".", "").replace(",", ".")
        raise _ambiguous(field, raw)
    if "." not in text or _DOTS_GROUP_THOUSANDS.fullmatch(text):
        return text.replace(".", "")  # "66.992" or "1.234.567": dots group thousands
    if _ONE_DOT.fullmatch(text):
        return text
    raise _ambiguous(field, raw)


def _ambiguous(field: str, raw: str) -> DataEntryError:
    return DataEntryError(
        _(
            "%(field)s: “%(text)s” không rõ dấu nào ngăn hàng nghìn, dấu nào là dấu thập phân. "
            "Xin viết theo cách Việt Nam: dấu chấm ngăn hàng nghìn, dấu phẩy trước phần thập "
            "phân (1.234,5)."
        ),
        code="number.ambiguous",
        field=field,
        text=shown(raw),
    )


def _not_a_number(field: str, raw) -> DataEntryError:
    return DataEntryError(
        _("%(field)s: “%(text)s” không phải là số."),
        code="number.not_a_number",
        field=field,
        text=shown(str(raw)),
    )


def _label(entry: Entry) -> str:
    return _("Chỉ tiêu “%(name)s”") % {"name": entry.indicator.name}


class BusyError(DataEntryError):
    """The database was busy with other writers (SQLite's lock past the timeout, a
    PostgreSQL deadlock): nothing was written, the same save may be sent again."""

    code = "data.busy"
    default_message = _("Hệ thống đang bận ghi số liệu khác; chưa lưu gì, xin lưu lại.")


@dataclass(frozen=True)
class Conflict:
    """A figure changed by someone else since the user loaded it."""

    entry: Entry
    period: Period
    expected_version: int
    seen: Decimal | None  # the value at the expected version (None: empty)
    current: Decimal | None  # the value stored now (None: empty or deleted)
    change: DataValueChange | None  # the latest change: who, when
    seen_qualifier: str = ""
    current_qualifier: str = ""

    @property
    def field(self) -> str:
        label = _label(self.entry)
        if self.entry.category:
            option = None
            if self.entry.indicator.disaggregation_id:
                option = self.entry.indicator.disaggregation.options.filter(
                    code=self.entry.category
                ).first()
            label += f" ({option.name if option else self.entry.category})"
        return f"{label}, {self.period.label}"

    @property
    def who(self) -> str:
        if self.change is None:
            return _("người khác")
        if self.change.changed_by is not None:
            return str(self.change.changed_by)
        return _("hệ thống (nguồn “%(source)s”)") % {"source": self.change.source}

    @property
    def when(self) -> str:
        return format_datetime(self.change.changed_at) if self.change else ""

    def describe(self, since: str = "") -> str:
        """What happened to the figure, in Vietnamese, without the field's name; ``since``
        names the moment the user saw it (default: when the form was opened)."""
        empty = _("(trống)")
        indicator = self.entry.indicator

        def text(value, qualifier=""):  # in the unit the user reads and types (display_unit)
            if value is None:
                return empty
            return qualified(indicator.display_text(value, decimals=6), qualifier)

        if self.current is None and self.change is not None:
            action = _("%(who)s đã xóa số liệu lúc %(when)s") % {
                "who": self.who,
                "when": self.when,
            }
        else:
            action = _("%(who)s đã sửa thành %(current)s lúc %(when)s") % {
                "who": self.who,
                "current": text(self.current, self.current_qualifier),
                "when": self.when,
            }
        return _("%(action)s, sau %(since)s (lúc đó: %(seen)s); giá trị bạn nhập: %(new)s") % {
            "action": action,
            "since": since or _("khi bạn mở biểu"),
            "seen": text(self.seen, self.seen_qualifier),
            "new": text(self.entry.value, self.entry.qualifier),
        }


class ValueConflictError(DataEntryError):
    """Figures changed meanwhile by someone else: the whole save is refused, nothing written.

    ``conflicts`` lists every such figure; the message is Vietnamese, one line per figure,
    then a line saying that nothing was saved and what to do.
    """

    code = "data.conflict"

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        lines = [
            _("%(field)s: %(what)s.") % {"field": c.field, "what": c.describe()} for c in conflicts
        ]
        lines.append(conflict_advice(len(conflicts)))
        super().__init__("\n".join(lines))


def conflict_advice(count: int) -> str:
    return _(
        "Không lưu số liệu nào: %(n)d số liệu đã được người khác thay đổi sau khi bạn mở. "
        "Các giá trị bạn nhập vẫn giữ trong biểu; xem lại từng số nêu trên rồi lưu lại "
        "(lưu lại sẽ ghi giá trị bạn nhập thay cho giá trị mới)."
    ) % {"n": count}


def versions_of(*, units, indicators, periods) -> dict[tuple[int, int, str, str], int]:
    """The version of every figure with history among these units, indicators and period
    ids, keyed (indicator id, unit id, period id, category); absent keys are at version 0."""
    rows = (
        DataValueChange.objects.filter(unit__in=units, indicator__in=indicators, period__in=periods)
        .order_by()
        .values_list("indicator_id", "unit_id", "period", "category")
        .annotate(version=Max("id"))
    )
    return {(i, u, p, c): v for i, u, p, c, v in rows}


def _latest_change(entry: Entry, period: Period) -> DataValueChange | None:
    return (
        DataValueChange.objects.filter(
            indicator=entry.indicator,
            unit=entry.unit,
            period=period.id,
            category=entry.category,
        )
        .select_related("changed_by")
        .order_by("-id")
        .first()
    )


def _check_version(entry: Entry, period: Period, current: DataValue | None) -> None:
    """Raise a conflict when the figure (its row locked, or inserted by us) has moved on
    from the version the entry was made against."""
    if entry.expected_version is None:
        return
    latest = _latest_change(entry, period)
    if (latest.pk if latest else 0) == entry.expected_version:
        return
    seen, seen_qualifier = None, ""
    if entry.expected_version > 0:
        at = DataValueChange.objects.filter(pk=entry.expected_version).first()
        if at:
            seen, seen_qualifier = at.new_value, at.new_qualifier
    raise ValueConflictError(
        [
            Conflict(
                entry,
                period,
                entry.expected_version,
                seen,
                current.value if current is not None else None,
                latest,
                seen_qualifier,
                current.qualifier if current is not None else "",
            )
        ]
    )


def _check_own(entry: Entry) -> Period:
    """Everything about one entry except the write guards."""
    indicator = entry.indicator
    label = _label(entry)
    if indicator.is_computed:
        raise DataEntryError(
            _("%(field)s được tính theo công thức, không nhập trực tiếp."),
            code="data.computed",
            field=label,
        )
    try:
        period = Period.parse(entry.period)
    except PeriodError as exc:
        raise DataEntryError(exc.message, code=exc.code, **exc.params) from exc
    codes = indicator.category_codes()
    if entry.category not in codes:
        raise DataEntryError(
            _("%(field)s: phân tổ “%(category)s” không hợp lệ; dùng: %(allowed)s."),
            code="data.unknown_category",
            field=label,
            category=entry.category,
            allowed=", ".join(c for c in codes if c) or _("(không phân tổ)"),
        )
    if not entry.unit.is_valid_during(period):
        raise DataEntryError(
            _("Đơn vị “%(unit)s” không còn hoặc chưa tồn tại trong %(period)s."),
            code="data.unit_not_valid",
            unit=entry.unit.name,
            period=period.label,
        )
    if entry.value is not None:
        try:
            indicator.check_value(entry.value)
        except ValueRefused as exc:
            raise DataEntryError(
                _("%(field)s: %(problem)s"), code=exc.code, field=label, problem=exc
            ) from exc
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
    for guard in () if _COMPUTING.get() else _WRITE_GUARDS:
        if not pending:
            break
        refusals = guard([(entries[i], outcomes[i]) for i in pending])
        still = []
        for i, refusal in zip(pending, refusals, strict=True):
            if refusal:
                outcomes[i] = DataEntryError(
                    _("%(field)s: %(reason)s"),
                    code="data.write_refused",
                    field=_label(entries[i]),
                    reason=refusal,
                )
            else:
                still.append(i)
        pending = still
    return outcomes


def _checked(entries: list[Entry]) -> list[Period]:
    """The entries' periods, or one DataEntryError listing every problem."""
    outcomes = check_entries(entries)
    problems = [o for o in outcomes if isinstance(o, DataEntryError)]
    if problems:
        raise DataEntryError.of_several(problems)
    return outcomes


def check_entry(entry: Entry) -> Period:
    outcome = check_entries([entry])[0]
    if isinstance(outcome, DataEntryError):
        raise outcome
    return outcome


def save_value(entry: Entry, *, user=None, source: str = "form") -> SaveResult:
    """Create, change or (value None) delete one value, with history and rollups."""
    period = check_entry(entry)
    with busy_as_message():
        return _write(entry, period, user=user, source=source)


# OperationalErrors after which nothing was written and the same save may simply be sent
# again: SQLite's lock held by other writers past the timeout, a deadlock PostgreSQL broke
_RETRYABLE = ("database is locked", "deadlock detected")


class busy_as_message:
    """Around an outermost transaction: a database busy with other writers (see
    ``_RETRYABLE``) becomes a message asking to save again, not a server error."""

    def __enter__(self):
        self.outermost = not connection.in_atomic_block

    def __exit__(self, kind, exc, tb):
        busy = (
            kind is not None
            and issubclass(kind, OperationalError)
            and any(text in str(exc) for text in _RETRYABLE)
        )
        if self.outermost and busy:
            raise BusyError() from exc
        return False


def _key(entry: Entry, period: Period) -> dict:
    return {
        "indicator": entry.indicator,
        "unit": entry.unit,
        "period": period.id,
        "category": entry.category,
    }


def _write(entry: Entry, period: Period, *, user, source: str, moves=None) -> SaveResult:
    """Write one checked entry.

    The row is locked before the version check and the write. A figure not stored yet has
    no row to lock: it is inserted in a savepoint, and when a concurrent save inserted it
    first (unique key), the row it committed is locked and the save becomes an update.
    With ``moves`` (a dict) the rollup moves are collected there instead of made now.
    """
    key = _key(entry, period)
    with transaction.atomic():
        existing = DataValue.objects.select_for_update().filter(**key).first()
        created = None
        if existing is None and entry.value is not None:
            try:
                with transaction.atomic():
                    row = _new_value(entry, period, user)
                    row.save(force_insert=True)
                created = row  # only once inserted: a refused insert leaves it None
            except IntegrityError:  # inserted meanwhile by a concurrent save: update it
                existing = DataValue.objects.select_for_update().filter(**key).first()
                if existing is None:
                    raise
        if created is None and (
            (existing is None and entry.value is None)
            or (existing is not None and _same(existing, entry))
        ):
            # already as the user wants it, whoever did it: nothing to write or refuse
            old = existing.value if existing else None
            old_qualifier = existing.qualifier if existing else ""
            return SaveResult(None, old, old, old_qualifier, old_qualifier)
        _check_version(entry, period, existing)
        if created is not None:
            _creation(entry, period, user, source).save()
            _move_rollups(entry, period, entry.value, 1, moves)
            return SaveResult(ChangeAction.CREATE, None, entry.value, "", entry.qualifier)
        return _change_existing(entry, period, existing, user=user, source=source, moves=moves)


def _same(existing: DataValue, entry: Entry) -> bool:
    return (existing.value, existing.qualifier, existing.comment) == (
        entry.value,
        entry.qualifier,
        entry.comment,
    )


def _change_existing(entry, period, existing: DataValue, *, user, source, moves) -> SaveResult:
    """Delete (value None) or update a stored figure, locked and checked, with history."""
    old, old_qualifier, old_comment = existing.value, existing.qualifier, existing.comment
    if entry.value is None:
        existing.delete()
        _change(
            entry,
            period,
            ChangeAction.DELETE,
            (old, old_qualifier, old_comment),
            None,
            user,
            source,
        ).save()
        _move_rollups(entry, period, -old, -1, moves)
        return SaveResult(ChangeAction.DELETE, old, None, old_qualifier, "")
    existing.value, existing.qualifier = entry.value, entry.qualifier
    existing.comment, existing.updated_by = entry.comment, user
    existing.save(update_fields=["value", "qualifier", "comment", "updated_by", "updated_at"])
    _change(
        entry,
        period,
        ChangeAction.UPDATE,
        (old, old_qualifier, old_comment),
        (entry.value, entry.qualifier, entry.comment),
        user,
        source,
    ).save()
    if entry.value != old:
        _move_rollups(entry, period, entry.value - old, 0, moves)
    return SaveResult(ChangeAction.UPDATE, old, entry.value, old_qualifier, entry.qualifier)


def save_values(entries: list[Entry], *, user=None, source: str = "form") -> list[SaveResult]:
    """Save several values all or nothing: every entry is checked before any is written.

    Figures changed meanwhile by someone else (see ``Entry.expected_version``) refuse the
    whole save with one :class:`ValueConflictError` listing every one of them.

    Locks are taken in one order by every save, so that concurrent saves wait for each
    other instead of deadlocking: first the values' rows, sorted by key, then the rollup
    rows, sorted by key (the moves of all the values summed per rollup row).

    The values are written in a batch (:func:`_write_batch`): one locking read, one insert,
    one update, one delete and one insert of history rows for the whole save, then the
    rollup rows the same way, whatever the number of values; a save naming one figure twice
    writes them one by one, in order.
    """
    with busy_as_message(), transaction.atomic():
        periods = _checked(entries)
        keys = [_key_tuple(e, p) for e, p in zip(entries, periods, strict=True)]
        order = sorted(range(len(entries)), key=lambda i: keys[i])
        results: list[SaveResult | None] = [None] * len(entries)
        conflicts, moves = [], {}
        if len(set(keys)) == len(keys):
            conflicts = _write_batch(
                [(i, entries[i], periods[i]) for i in order], results, user, source, moves
            )
        else:
            for i in order:
                try:
                    results[i] = _write(
                        entries[i], periods[i], user=user, source=source, moves=moves
                    )
                except ValueConflictError as exc:  # its savepoint is rolled back; list all
                    conflicts += exc.conflicts
        if conflicts:
            raise ValueConflictError(sorted(conflicts, key=lambda c: entries.index(c.entry)))
        _apply_rollup_moves(moves)
        return results


def _key_tuple(entry: Entry, period: Period) -> tuple:
    return (entry.indicator.pk, entry.unit.pk, period.id, entry.category)


# Rows per statement of a batch: well under SQLite's limit of bound parameters.
_ROWS_PER_STATEMENT = 200
_KEY_COLUMNS = ("indicator_id", "unit_id", "period", "category")


def _chunks(items: list, size: int = _ROWS_PER_STATEMENT):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _locked_rows(model, keys: list[tuple]) -> dict[tuple, object]:
    """The rows of ``model`` with these (indicator, unit, period, category) keys, locked in
    key order (``keys`` sorted), by key.

    In SQL of its own — ``(…) IN (VALUES …)`` — because Django builds an OR of a hundred
    four-field lookups slower than the database answers it (bench/ntm.py, profiled)."""
    qn = connection.ops.quote_name
    table, columns = qn(model._meta.db_table), ", ".join(qn(c) for c in _KEY_COLUMNS)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = {}
    for chunk in _chunks(keys):
        rows = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        sql = f"SELECT * FROM {table} WHERE ({columns}) IN (VALUES {rows}) ORDER BY {columns}{lock}"
        for row in model.objects.raw(sql, [v for key in chunk for v in key]):
            found[(row.indicator_id, row.unit_id, row.period, row.category)] = row
    return found


def _update_rows(model, rows: list, fields: list[str]) -> None:
    """Write ``fields`` of ``rows`` (read and locked by :func:`_locked_rows`) in one
    ``UPDATE … FROM (VALUES …)`` per chunk: what ``bulk_update`` does, without the CASE
    expressions it spends more time building than the update takes."""
    qn = connection.ops.quote_name
    meta = model._meta
    targets = [meta.get_field(name) for name in fields]
    pk = meta.pk
    typed = connection.vendor == "postgresql"  # VALUES columns typed as the table's

    def slot(field):
        return f"CAST(%s AS {field.cast_db_type(connection)})" if typed else "%s"

    row_sql = "(" + ", ".join(slot(f) for f in [pk, *targets]) + ")"
    names = ["k"] + [f"v{i}" for i in range(len(targets))]
    table = qn(meta.db_table)
    assignments = ", ".join(
        f"{qn(f.column)} = v.{name}" for f, name in zip(targets, names[1:], strict=True)
    )
    for chunk in _chunks(rows):
        params = []
        for row in chunk:
            params.append(row.pk)
            params += [f.get_db_prep_save(getattr(row, f.attname), connection) for f in targets]
        sql = (
            f"WITH v({', '.join(names)}) AS (VALUES {', '.join([row_sql] * len(chunk))}) "
            f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{qn(pk.column)} = v.k"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _delete_rows(model, rows: list) -> None:
    for chunk in _chunks(rows):
        model.objects.filter(pk__in=[row.pk for row in chunk]).delete()


def _write_batch(items, results, user, source: str, moves: dict) -> list:
    """Write checked entries with distinct keys, ``items`` (index, entry, period) in key
    order; fill ``results`` by index, collect the rollup moves; return the conflicts.

    The same steps as :func:`_write`, for all at once: the stored rows locked first, each
    version checked under the lock, then the writes. A figure inserted meanwhile by a
    concurrent save (the batch insert fails on the unique key) is written again alone by
    :func:`_write`, which then finds and locks the row committed."""
    stored = _locked_rows(DataValue, [_key_tuple(e, p) for _i, e, p in items])
    conflicts, created, updated, deleted, history = [], [], [], [], []
    now = timezone.now()
    for i, entry, period in items:
        row = stored.get(_key_tuple(entry, period))
        if (row is None and entry.value is None) or (row is not None and _same(row, entry)):
            old = row.value if row else None
            old_qualifier = row.qualifier if row else ""
            results[i] = SaveResult(None, old, old, old_qualifier, old_qualifier)
            continue
        try:
            _check_version(entry, period, row)
        except ValueConflictError as exc:
            conflicts += exc.conflicts
            continue
        if row is None:
            created.append((i, entry, period))
        elif entry.value is None:
            deleted.append(row)
            old = (row.value, row.qualifier, row.comment)
            history.append(_change(entry, period, ChangeAction.DELETE, old, None, user, source))
            _move_rollups(entry, period, -row.value, -1, moves)
            results[i] = SaveResult(ChangeAction.DELETE, row.value, None, row.qualifier, "")
        else:
            old = (row.value, row.qualifier, row.comment)
            new = (entry.value, entry.qualifier, entry.comment)
            history.append(_change(entry, period, ChangeAction.UPDATE, old, new, user, source))
            if entry.value != row.value:
                _move_rollups(entry, period, entry.value - row.value, 0, moves)
            results[i] = SaveResult(
                ChangeAction.UPDATE, row.value, entry.value, row.qualifier, entry.qualifier
            )
            row.value, row.qualifier, row.comment = entry.value, entry.qualifier, entry.comment
            row.updated_by, row.updated_at = user, now
            updated.append(row)
    if conflicts:
        return conflicts
    if created:
        try:
            with transaction.atomic():
                DataValue.objects.bulk_create([_new_value(e, p, user) for _i, e, p in created])
        except IntegrityError:  # one of them inserted meanwhile: each alone, as _write does
            for i, entry, period in created:
                results[i] = _write(entry, period, user=user, source=source, moves=moves)
            created = []
        for i, entry, period in created:
            history.append(_creation(entry, period, user, source))
            _move_rollups(entry, period, entry.value, 1, moves)
            results[i] = SaveResult(ChangeAction.CREATE, None, entry.value, "", entry.qualifier)
    if updated:
        _update_rows(
            DataValue, updated, ["value", "qualifier", "comment", "updated_by", "updated_at"]
        )
    if deleted:
        _delete_rows(DataValue, deleted)
    DataValueChange.objects.bulk_create(history)
    return []


def _new_value(entry: Entry, period: Period, user) -> DataValue:
    """The row of a figure not stored yet (unsaved)."""
    return DataValue(
        **_key(entry, period),
        period_start=period.start,
        period_end=period.end,
        value=entry.value,
        qualifier=entry.qualifier if entry.value is not None else "",
        comment=entry.comment,
        created_by=user,
        updated_by=user,
    )


def _change(entry, period, action, old, new, user, source) -> DataValueChange:
    """The history row of one change (unsaved); ``old`` and ``new`` are (value, qualifier,
    comment), None for no figure."""
    old_value, old_qualifier, old_comment = old or (None, "", "")
    new_value, new_qualifier, new_comment = new or (None, "", "")
    return DataValueChange(
        **_key(entry, period),
        action=action,
        old_value=old_value,
        new_value=new_value,
        old_qualifier=old_qualifier,
        new_qualifier=new_qualifier,
        old_comment=old_comment,
        new_comment=new_comment,
        changed_by=user,
        source=source,
    )


def _creation(entry: Entry, period: Period, user, source: str) -> DataValueChange:
    """The history row of a figure stored for the first time (unsaved)."""
    new = (entry.value, entry.qualifier, entry.comment)
    return _change(entry, period, ChangeAction.CREATE, None, new, user, source)


def _move_rollups(
    entry: Entry, period: Period, delta: Decimal, count_delta: int, moves=None
) -> None:
    """Move the rollup rows of the entry's ancestors — now, or collected into ``moves``."""
    now = {} if moves is None else moves
    for ancestor_id in entry.unit.ancestor_ids:
        key = (entry.indicator.pk, ancestor_id, period.id, entry.category)
        total, count, _period = now.get(key, (Decimal(0), 0, period))
        now[key] = (total + delta, count + count_delta, period)
    if moves is None:
        _apply_rollup_moves(now)


def _apply_rollup_moves(moves: dict) -> None:
    """Move the rollup rows: those stored locked in key order and written in one update
    (and one delete of the rows no value counts in any more), the missing ones inserted in
    one batch — or, when a concurrent save inserted one first, each moved alone."""
    moving = sorted((key, move) for key, move in moves.items() if move[0] or move[1])
    if not moving:
        return
    stored = _locked_rows(Rollup, [key for key, _move in moving])
    changed, emptied, missing = [], [], []
    for key, (delta, count_delta, period) in moving:
        row = stored.get(key)
        if row is None:
            missing.append((key, delta, count_delta, period))
            continue
        row.total, row.count = row.total + delta, row.count + count_delta
        (emptied if count_delta < 0 and row.count <= 0 else changed).append(row)
    if changed:
        _update_rows(Rollup, changed, ["total", "count"])
    if emptied:
        _delete_rows(Rollup, emptied)
    if not missing:
        return
    rows = [
        Rollup(
            indicator_id=indicator_id,
            unit_id=unit_id,
            period=period.id,
            period_start=period.start,
            period_end=period.end,
            category=category,
            total=delta,
            count=max(count_delta, 0),
        )
        for (indicator_id, unit_id, _period_id, category), delta, count_delta, period in missing
    ]
    try:
        with transaction.atomic():
            Rollup.objects.bulk_create(rows)
    except IntegrityError:  # created meanwhile by a concurrent save: each alone
        for key, delta, count_delta, period in missing:
            _move_rollup_alone(key, delta, count_delta, period)


def _move_rollup_alone(key: tuple, delta: Decimal, count_delta: int, period: Period) -> None:
    indicator_id, unit_id, _period_id, category = key
    fields = {"indicator_id": indicator_id, "period": period.id, "category": category}
    rows = Rollup.objects.filter(unit_id=unit_id, **fields)
    if rows.update(total=F("total") + delta, count=F("count") + count_delta):
        if count_delta < 0:
            rows.filter(count__lte=0).delete()
        return
    try:
        with transaction.atomic():
            Rollup.objects.create(
                unit_id=unit_id,
                period_start=period.start,
                period_end=period.end,
                total=delta,
                count=max(count_delta, 0),
                **fields,
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
    with busy_as_message(), transaction.atomic():
        existing = {}
        unit_ids = {e.unit.pk for e in entries}
        for dv in DataValue.objects.filter(
            unit_id__in=unit_ids, indicator_id__in={e.indicator.pk for e in entries}
        ):
            existing[(dv.indicator_id, dv.unit_id, dv.period, dv.category)] = dv
        new_values, history = [], []
        changed = []
        versions = {}
        if any(e.expected_version is not None for e in entries):
            versions = versions_of(
                units=unit_ids,
                indicators={e.indicator.pk for e in entries},
                periods={p.id for p in periods.values()},
            )
        for entry in entries:
            period = periods[id(entry)]
            key = (entry.indicator.pk, entry.unit.pk, period.id, entry.category)
            current = existing.get(key)
            if current is None:
                if entry.value is None:
                    continue
                if entry.expected_version not in (None, versions.get(key, 0)):
                    changed.append(entry)  # save_value refuses it with the conflict message
                    continue
                new_values.append(_new_value(entry, period, user))
                history.append(_creation(entry, period, user, source))
                counts["created"] += 1
            elif _same(current, entry):
                counts["unchanged"] += 1
            else:
                changed.append(entry)
        DataValue.objects.bulk_create(new_values, batch_size=1000)
        DataValueChange.objects.bulk_create(history, batch_size=1000)
        if new_values:
            rebuild_rollups()
        if changed:
            save_values(changed, user=user, source=source)
            counts["updated"] += len(changed)
    return counts
