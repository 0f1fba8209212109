"""The pivot explorer: any indicators, units and periods laid out as a table the user picks.

A GET query (ASCII keys, so that the page's own URL is the link to share) names the
indicators (``chi_tieu``, repeated), a unit (``don_vi``) and the level listed below it
(``cap``), a range of years (``ky_tu``, ``ky_den``) cut into years, quarters or months or
taken whole (``loai``), which dimension goes on the rows (``hang``) and which on the columns
(``cot``), today's tree (``hom_nay=1``) and the categories of disaggregated indicators as
sub-rows (``phan_to=1``). :func:`parse_query` reads it into a :class:`Spec`, every mistake
a Vietnamese message naming the key (an unknown code, a unit outside the user's scope and a
unit that does not exist get the same one, so that nothing leaks); :func:`build_table`
computes the table.

The three dimensions are unit, period and indicator. Two are picked for rows and columns;
the third, when it has several members, is *nested in the rows*: each row is one member of
the row dimension crossed with one member of the third (units on rows with the indicators
inside each unit, for instance). One rule, whatever the choice, and no table refused for it.

Totals are never sums of the rows. The total over the units is the listed units' parent's
own cell (the unit asked for, aggregated by the engine: the latest value of a ``last``
stock, the mean of an ``average``); the total over the periods is the cell of the whole
range (``2021-2025``). Indicators have no total (their units differ).

Sizes are capped before anything is computed: at most 20 indicators, 200 units and 40
periods. A table of more than 2.000 cells is paged, 50 rows a page, and the page says so;
the totals rows are on every page, and the exports always hold every row. Only the cells
of the shown page are computed, with one :class:`~tiendo.data.aggregation.Aggregator` per
period over all the units of the page (``for_units``), never one per cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiendo.accounts import scope
from tiendo.core import exporters
from tiendo.core.formatting import format_number
from tiendo.data.aggregation import Aggregator, Cell
from tiendo.data.pivot import format_category, format_cell
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Aggregation, Indicator
from tiendo.programmes.periods import MAX_YEAR, MIN_YEAR, Period
from tiendo.units.models import Level, Unit, UnitKind
from tiendo.units.services import current_successors

MAX_INDICATORS = 20
MAX_UNITS = 200
MAX_PERIODS = 40
MAX_CELLS = 2000  # beyond this the table is paged
ROWS_PER_PAGE = 50
MAX_CODE_LENGTH = 60  # Indicator.code's max_length
MAX_ID = 2**31 - 1  # a unit id beyond any stored one (PostgreSQL refuses larger integers)

UNIT, PERIOD, INDICATOR = "unit", "period", "indicator"
DIMENSIONS = {
    UNIT: gettext_lazy("Đơn vị"),
    PERIOD: gettext_lazy("Kỳ"),
    INDICATOR: gettext_lazy("Chỉ tiêu"),
}
PERIOD_TYPES = {
    "year": gettext_lazy("Năm"),
    "quarter": gettext_lazy("Quý"),
    "month": gettext_lazy("Tháng"),
    "total": gettext_lazy("Cả kỳ"),
}


@dataclass(frozen=True)
class Member:
    """One position along a dimension: a unit, a period or an indicator; ``total`` for the
    unit or period that aggregates the others."""

    dimension: str
    item: object  # Unit, Period or Indicator
    label: str
    total: bool = False


@dataclass
class Spec:
    """A checked query; ``errors`` non-empty means no table."""

    indicators: list[Indicator] = field(default_factory=list)
    unit: Unit | None = None
    level: int | None = None
    units: list[Unit] = field(default_factory=list)
    first_year: int = 0
    last_year: int = 0
    period_type: str = "year"
    periods: list[Period] = field(default_factory=list)
    rows: str = UNIT
    columns: str = PERIOD
    today: bool = False
    categories: bool = False
    page: str | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def third(self) -> str:
        return next(d for d in DIMENSIONS if d not in (self.rows, self.columns))

    @property
    def range_period(self) -> Period:
        """The whole range of years: the total over the periods."""
        if self.first_year == self.last_year:
            return Period.year(self.first_year)
        return Period.parse(f"{self.first_year}-{self.last_year}")

    @property
    def lists_below(self) -> bool:
        """The units listed are the ones below the unit asked for (which is their total)."""
        return self.unit is not None and self.units != [self.unit]


# -- the query ----------------------------------------------------------------------------


def _shown(raw: str) -> str:
    """A value typed by someone, short enough to repeat in a message."""
    return raw if len(raw) <= 20 else raw[:20] + "…"


def _integer(query, key: str, low: int, high: int, errors: list[str]) -> int | None:
    raw = query.get(key, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not low <= int(raw) <= high:
        errors.append(
            _("“%(key)s”: “%(value)s” không phải số nguyên từ %(low)s đến %(high)s.")
            % {"key": key, "value": _shown(raw), "low": low, "high": high}
        )
        return None
    return int(raw)


def _choice(query, key: str, choices, default: str, errors: list[str]) -> str:
    raw = query.get(key, "").strip()
    if not raw:
        return default
    if raw not in choices:
        errors.append(
            _("“%(key)s”: “%(value)s” không phải một trong %(choices)s.")
            % {"key": key, "value": _shown(raw), "choices": ", ".join(choices)}
        )
        return default
    return raw


def visible_indicators(user):
    """The indicators of the programmes the user sees, in the form's order."""
    return (
        Indicator.objects.filter(programme__in=programmes_seen_by(user))
        .select_related("programme", "disaggregation")
        .prefetch_related("disaggregation__options")
        .order_by("programme__code", "order", "code")
    )


def _indicators(query, user, errors: list[str]) -> list[Indicator]:
    codes = list(dict.fromkeys(c.strip() for c in query.getlist("chi_tieu") if c.strip()))
    if len(codes) > MAX_INDICATORS:
        errors.append(
            _("Chọn nhiều nhất %(max)s chỉ tiêu (đã chọn %(count)s).")
            % {"max": MAX_INDICATORS, "count": len(codes)}
        )
        return []
    wanted = []
    for code in codes:
        if not code.isascii() or len(code) > MAX_CODE_LENGTH or not code.isprintable():
            errors.append(
                _("“chi_tieu”: mã “%(code)s” không hợp lệ (mã chỉ gồm chữ và số không dấu).")
                % {"code": _shown(code)}
            )
        else:
            wanted.append(code)
    found = {i.code: i for i in visible_indicators(user).filter(code__in=wanted)}
    for code in wanted:
        if code not in found:
            errors.append(
                _("Không có chỉ tiêu mã “%(code)s” trong các chương trình bạn xem.")
                % {"code": code}
            )
    if not codes and not errors:
        errors.append(_("Chọn ít nhất một chỉ tiêu."))
    return [found[c] for c in wanted if c in found]


def default_unit(user) -> Unit | None:
    if user.unit_id:
        return user.unit
    return scope.readable_units(user).order_by("level", "code").first()


def _unit(query, user, errors: list[str]) -> Unit | None:
    raw = query.get("don_vi", "").strip()
    if not raw:
        return default_unit(user)
    pk = _integer(query, "don_vi", 1, MAX_ID, errors)
    if pk is None:
        return None
    unit = scope.readable_units(user).filter(pk=pk).first()
    if unit is None:
        # the same words for a unit that does not exist and one outside the scope
        errors.append(_("“don_vi”: không có đơn vị số %(pk)s trong phạm vi bạn xem.") % {"pk": pk})
    return unit


def _periods(spec: Spec, errors: list[str]) -> list[Period]:
    first, last = spec.first_year, spec.last_year
    if first > last:
        errors.append(_("Năm đầu (“ky_tu”) phải không lớn hơn năm cuối (“ky_den”)."))
        return []
    years = last - first + 1
    count = {"year": years, "quarter": 4 * years, "month": 12 * years, "total": 1}
    if count[spec.period_type] > MAX_PERIODS:
        errors.append(
            _("Bảng có %(count)s kỳ, quá %(max)s kỳ; hãy thu hẹp khoảng năm hoặc chọn kỳ dài hơn.")
            % {"count": count[spec.period_type], "max": MAX_PERIODS}
        )
        return []
    if spec.period_type == "total":
        return [spec.range_period]
    ids = {
        "year": lambda y: [str(y)],
        "quarter": lambda y: [f"{y}Q{q}" for q in range(1, 5)],
        "month": lambda y: [f"{y}{m:02d}" for m in range(1, 13)],
    }[spec.period_type]
    return [Period.parse(i) for y in range(first, last + 1) for i in ids(y)]


def _today_unit(spec: Spec, user) -> None:
    """Today's tree asked for a unit of an older tree: the unit it has become (readable)."""
    unit = spec.unit
    if not spec.today or unit is None or unit.is_current:
        return
    successors = [u for u in current_successors(unit) if scope.can_read(user, u)]
    if not successors:
        spec.notes.append(
            _("%(unit)s không còn hiệu lực và không có đơn vị hiện nay nào bạn được xem.")
            % {"unit": unit.name}
        )
        spec.today = False
        return
    spec.notes.append(
        _("%(old)s nay thuộc %(new)s; đang hiển thị số liệu theo đơn vị hiện nay.")
        % {"old": unit.name, "new": ", ".join(u.name for u in successors)}
    )
    spec.unit = successors[0]


def _units(spec: Spec, user, errors: list[str]) -> list[Unit]:
    unit = spec.unit
    if unit is None:
        return []
    if spec.level is None or spec.level <= unit.level:
        return [unit]
    below = scope.readable_units(user).filter(path__startswith=unit.path, level=spec.level)
    below = below.exclude(pk=unit.pk)
    below = below.current() if spec.today else below.valid_during(spec.range_period)
    count = below.count()
    if count > MAX_UNITS:
        errors.append(
            _(
                "%(unit)s có %(count)s đơn vị %(level)s, quá %(max)s; hãy chọn đơn vị nhỏ hơn "
                "hoặc cấp cao hơn."
            )
            % {
                "unit": unit.name,
                "count": count,
                "level": Level(spec.level).label.lower(),
                "max": MAX_UNITS,
            }
        )
        return []
    if not count:
        spec.notes.append(
            _("%(unit)s không có đơn vị %(level)s nào trong kỳ đã chọn.")
            % {"unit": unit.name, "level": Level(spec.level).label.lower()}
        )
    # administrative units by official code, then the agencies (as the drill-down lists them)
    agency_last = Case(
        When(kind=UnitKind.AGENCY, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return list(below.annotate(agency_last=agency_last).order_by("agency_last", "code"))


def parse_query(query, user, *, this_year: int | None = None) -> Spec:
    """The explorer's query checked against the user's scope: a :class:`Spec` whose
    ``errors`` say, key by key, what cannot be read."""
    this_year = this_year or date.today().year
    errors: list[str] = []
    spec = Spec(errors=errors)
    spec.indicators = _indicators(query, user, errors)
    spec.unit = _unit(query, user, errors)
    if spec.unit is None and not query.get("don_vi", "").strip():
        errors.append(_("Chọn một đơn vị (“don_vi”): tài khoản của bạn không gắn với đơn vị nào."))
    levels = [level.value for level in Level]
    spec.level = _integer(query, "cap", min(levels), max(levels), errors)
    first = _integer(query, "ky_tu", MIN_YEAR, MAX_YEAR, errors)
    last = _integer(query, "ky_den", MIN_YEAR, MAX_YEAR, errors)
    spec.last_year = last or max(first or this_year, this_year)
    spec.first_year = first or min(spec.last_year - 4, spec.last_year)
    spec.period_type = _choice(query, "loai", list(PERIOD_TYPES), "year", errors)
    spec.rows = _choice(query, "hang", list(DIMENSIONS), UNIT, errors)
    spec.columns = _choice(query, "cot", list(DIMENSIONS), PERIOD, errors)
    if spec.rows == spec.columns:
        errors.append(_("Hàng (“hang”) và cột (“cot”) phải là hai chiều khác nhau."))
    spec.today = query.get("hom_nay") == "1"
    spec.categories = query.get("phan_to") == "1"
    if spec.categories and spec.columns == INDICATOR:
        spec.notes.append(_("Các phân tổ chỉ hiện thành dòng khi chỉ tiêu không nằm ở cột."))
        spec.categories = False
    spec.page = query.get("trang")
    if not errors:
        _today_unit(spec, user)
    spec.periods = _periods(spec, errors) if not errors else []
    if not errors:
        spec.units = _units(spec, user, errors)
    return spec


# -- the table ----------------------------------------------------------------------------


@dataclass
class Line:
    """A row of the table: its members (row dimension, and the third), a category for a
    sub-row, and a figure per column (filled by :func:`build_table`)."""

    members: tuple[Member, ...]
    category: str = ""  # the option's code for a category sub-row
    category_name: str = ""
    cells: list[Cell | None] = field(default_factory=list)
    sub: list[Line] = field(default_factory=list)

    @property
    def total(self) -> bool:
        return any(m.total for m in self.members)

    def indicator(self, column: Member | None = None) -> Indicator:
        found = [m.item for m in (*self.members, column) if m and m.dimension == INDICATOR]
        return found[0]

    def texts(self) -> list[str]:
        shown = []
        for cell in self.cells:
            if cell is None:
                shown.append("")
            elif self.category:
                shown.append(format_category(cell, self.category))
            else:
                shown.append(format_cell(cell))
        return shown


@dataclass
class Table:
    spec: Spec
    columns: list[Member]
    lines: list[Line]  # the rows of the page (or every row, unpaged)
    totals: list[Line]  # the total rows, on every page
    fixed: list[Member]  # the dimension not on the table, when it has a single member
    page: object = None  # a Django Page when the table is paged
    cell_count: int = 0
    flagged: list = field(default_factory=list)  # today's tree: old units left out

    @property
    def label_columns(self) -> list[str]:
        names = [str(DIMENSIONS[self.spec.rows])]
        if not self.fixed:
            names.append(str(DIMENSIONS[self.spec.third]))
        return names

    def paging_note(self) -> str:
        if self.page is None:
            return ""
        return _(
            "Bảng có %(cells)s ô, quá %(max)s ô: chia trang, %(per)s dòng một trang "
            "(trang %(page)s/%(pages)s). Tệp Excel và CSV có đủ mọi dòng."
        ) % {
            "cells": format_number(self.cell_count),
            "max": format_number(MAX_CELLS),
            "per": ROWS_PER_PAGE,
            "page": self.page.number,
            "pages": self.page.paginator.num_pages,
        }


def indicator_label(indicator: Indicator) -> str:
    return f"{indicator.name} ({indicator.shown_unit})"


def members(spec: Spec, dimension: str) -> tuple[list[Member], Member | None]:
    """The members of a dimension and its total member (``None``: no total)."""
    if dimension == UNIT:
        listed = [Member(UNIT, u, u.name) for u in spec.units]
        total = None
        if spec.lists_below:
            total = Member(UNIT, spec.unit, _("Tổng (%(unit)s)") % {"unit": spec.unit.name}, True)
        return listed, total
    if dimension == PERIOD:
        listed = [Member(PERIOD, p, p.title) for p in spec.periods]
        total = None
        if len(spec.periods) > 1:
            whole = spec.range_period
            total = Member(PERIOD, whole, _("Tổng (%(period)s)") % {"period": whole.title}, True)
        return listed, total
    return [Member(INDICATOR, i, indicator_label(i)) for i in spec.indicators], None


def _with_categories(line: Line, spec: Spec) -> Line:
    if not spec.categories:
        return line
    indicator = next((m.item for m in line.members if m.dimension == INDICATOR), None)
    if indicator is None or not indicator.disaggregation_id:
        return line
    line.sub = [
        Line(line.members, option.code, option.name)
        for option in indicator.disaggregation.options.all()
    ]
    return line


def _lines(spec: Spec, outer: list[Member], inner: list[Member]) -> list[Line]:
    return [_with_categories(Line((o, i)), spec) for o in outer for i in inner]


def build_table(spec: Spec, *, paged: bool = True) -> Table:
    """The table of a checked spec; ``paged=False`` for the exports (every row)."""
    row_members, row_total = members(spec, spec.rows)
    columns, column_total = members(spec, spec.columns)
    if column_total is not None:
        columns = [*columns, column_total]
    inner = members(spec, spec.third)[0]
    fixed = inner if len(inner) == 1 else []
    lines = _lines(spec, row_members, inner)
    totals = _lines(spec, [row_total], inner) if row_total is not None else []
    height = sum(1 + len(line.sub) for line in [*lines, *totals])
    table = Table(spec, columns, lines, totals, fixed, cell_count=height * len(columns))
    if paged and table.cell_count > MAX_CELLS:
        table.page = Paginator(lines, ROWS_PER_PAGE).get_page(spec.page)
        table.lines = list(table.page.object_list)
    _fill(table)
    return table


def _fill(table: Table) -> None:
    """The cells of the shown lines: one aggregator a period, over every unit needed."""
    spec = table.spec
    shown = [*table.lines, *table.totals]
    wanted: dict[str, tuple[Period, dict[int, Unit]]] = {}
    for line in shown:
        for column in table.columns:
            unit, period, _indicator = _triple(spec, line, column)
            wanted.setdefault(period.id, (period, {}))[1][unit.pk] = unit
    cells: dict[str, dict[int, dict[str, Cell]]] = {}
    mappings: dict = {}  # today's tree: each unit mapped once for all the periods
    flagged: dict[int, tuple] = {}
    for period_id, (period, units) in wanted.items():
        aggregator = Aggregator(spec.indicators, period, today=spec.today, mappings=mappings)
        cells[period_id] = aggregator.for_units(list(units.values()))
        for old_unit, reason in aggregator.flagged:
            flagged.setdefault(old_unit.pk, (old_unit, reason))
    table.flagged = list(flagged.values())
    for line in shown:
        line.cells = []
        for column in table.columns:
            unit, period, indicator = _triple(spec, line, column)
            line.cells.append(cells[period.id][unit.pk].get(indicator.code))
        for sub in line.sub:
            sub.cells = line.cells


def _triple(spec: Spec, line: Line, column: Member) -> tuple[Unit, Period, Indicator]:
    found = {m.dimension: m.item for m in (*line.members, column)}
    return found[UNIT], found[PERIOD], found[INDICATOR]


# -- exports ------------------------------------------------------------------------------


def _number_cell(cell: Cell | None, line: Line, column: Member) -> exporters.Cell:
    """A figure as a number in the display unit, at the indicator's precision; a range or
    a formula's error as text."""
    if cell is None:
        return exporters.blank()
    indicator = line.indicator(column)
    if cell.error:
        return exporters.text(cell.error)
    if indicator.aggregation == Aggregation.RANGE and not line.category:
        return exporters.text(format_cell(cell))
    value = cell.categories.get(line.category) if line.category else cell.value
    places = indicator.decimals + indicator.display_places
    return exporters.number(indicator.to_display(value), places, bold=line.total)


def caption(table: Table) -> str:
    """What the table is of beyond its rows and columns: the fixed member, and the tree."""
    if table.spec.today:
        tree = _("Số liệu quy về đơn vị hành chính hiện nay")
    else:
        tree = _("Số liệu theo cây đơn vị tại thời điểm báo cáo")
    return " · ".join([*(m.label for m in table.fixed), tree])


def export_table(table: Table) -> exporters.Table:
    """The explorer's table in the exporters' model: labels as text, figures as numbers."""
    labels = table.label_columns
    header = [exporters.text(name, bold=True) for name in labels]
    header += [exporters.text(column.label, bold=True, wrap=True) for column in table.columns]
    body = []
    for line in [*table.lines, *table.totals]:
        for shown in (line, *line.sub):
            names = [m.label for m in shown.members][: len(labels)]
            if shown.category:
                names[-1] = f"- {shown.category_name}"
            cells = [exporters.text(n, bold=shown.total) for n in names]
            cells += [
                _number_cell(c, shown, col)
                for c, col in zip(shown.cells, table.columns, strict=True)
            ]
            body.append(exporters.Row(cells))
    return exporters.Table(
        name=_("Phân tích"),
        widths=[36] * len(labels) + [16] * len(table.columns),
        title=[
            exporters.title_line(_("Bảng phân tích số liệu"), bold=True),
            exporters.title_line(caption(table), size=11),
        ],
        header=[exporters.Row(header)],
        body=body,
        frozen_columns=len(labels),
    )
