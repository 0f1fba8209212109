"""Pages that read values: the home page, and a programme with its indicator table per unit
and year, drilled down over the units below."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.analytics import explorer
from tiendo.analytics.home import home_sections
from tiendo.core.errors import TiendoError
from tiendo.core.exporters import Exporter
from tiendo.core.formatting import format_date, format_percent
from tiendo.data.aggregation import Aggregator, Cell
from tiendo.data.pivot import format_category, format_cell, target_label
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import CategoryDisplay, Indicator, Programme
from tiendo.programmes.periods import Period, PeriodError, PeriodType
from tiendo.units.chains import parse_view_day
from tiendo.units.models import Level, Unit, UnitKind
from tiendo.units.services import current_successors

UNIT_CHOICES_LIMIT = 1000
DRILL_PER_PAGE = 50


@login_required
def home(request):
    """What the user has to do and where their programmes stand (:mod:`.home`)."""
    user = request.user
    unit = user.unit
    if unit is not None:
        scope.check_unit(user, unit)
    sections = home_sections(user, timezone.localdate())
    return render(
        request,
        "analytics/home.html",
        {
            "unit": unit,
            "home": sections,
            "programmes": programmes_seen_by(user).order_by("code"),
            # a leader's account reads only; say so instead of offering data entry
            "read_only": unit is not None and not scope.can_write(user, unit),
        },
    )


# -- figures ------------------------------------------------------------------------------


@dataclass
class Figure:
    period: Period
    cell: Cell | None
    text: str = ""
    target: str = ""
    achieved: str = ""
    as_of: str = ""
    error: str = ""  # why a formula could not be evaluated, shown in the cell
    target_label: str = ""  # which target "% đạt" used: ``kế hoạch 400 (năm 2022)``
    target_period: str = ""  # the target's period when it is not the figure's own
    # (name, figure, its target and "% đạt" against it) shown in the cell
    categories: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self):
        cell = self.cell
        if cell is None:
            return
        if cell.error:
            self.error = cell.error
            return
        self.text = format_cell(cell)  # a range as officials write it: ``10 - 15``
        self.target = cell.indicator.display_text(cell.target)
        self.target_label = target_label(cell)
        if cell.target is not None and cell.target_period and cell.target_period != self.period.id:
            try:
                self.target_period = Period.parse(cell.target_period).label
            except PeriodError:
                self.target_period = cell.target_period
        achieved = cell.achieved
        self.achieved = format_percent(achieved) if achieved is not None else ""
        if cell.as_of:
            try:
                self.as_of = Period.parse(cell.as_of).label
            except PeriodError:
                self.as_of = cell.as_of


@dataclass
class Row:
    indicator: Indicator
    years: list[Figure]
    phase: Figure
    # a sub-row per category: name, a figure per year, the phase's figure, target, % đạt
    categories: list[tuple[str, list[str], str, str, str]] = field(default_factory=list)


@dataclass
class Group:
    name: str
    rows: list[Row]


def programme_periods(programme: Programme) -> tuple[list[Period], Period]:
    """The calendar years of the programme's period, and the whole period."""
    phase = programme.period_obj
    years = phase.years() if phase.type is not PeriodType.YEAR else []
    if len(years) == 1:
        years = []
    return years, phase


def _int_param(request, name: str) -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404(_("Đơn vị không tồn tại.")) from None


def _default_unit(user) -> Unit | None:
    if user.unit_id:
        return user.unit
    readable = scope.readable_units(user)
    return readable.order_by("level", "code").first()


def selected_unit(request) -> Unit | None:
    """The unit asked for (``?unit=``), else the user's own; always checked against the scope."""
    pk = _int_param(request, "unit")
    unit = get_object_or_404(Unit, pk=pk) if pk is not None else _default_unit(request.user)
    if unit is not None:
        scope.check_unit(request.user, unit)
    return unit


def view_day(request) -> date | None:
    """The day whose tree the page shows (``?ngay=dd/mm/yyyy``); ``None`` without one or
    when it cannot be read (the page says why)."""
    raw = request.GET.get("ngay", "").strip()
    if not raw:
        return None
    try:
        return parse_view_day(raw)
    except TiendoError as exc:
        messages.error(request, str(exc))
        return None


def resolve_today(request, unit: Unit, wanted: bool, day: date | None = None) -> tuple[Unit, bool]:
    """In today's view (or the tree of ``day``) a unit of an older tree is replaced by the
    unit it had become by then."""
    if not wanted or unit.is_valid_on(day or date.today()):
        return unit, wanted
    successors = [u for u in current_successors(unit, day) if scope.can_read(request.user, u)]
    if not successors:
        messages.warning(
            request,
            _("%(unit)s không còn hiệu lực và không có đơn vị hiện nay nào bạn được xem.")
            % {"unit": unit.name},
        )
        return unit, False
    messages.info(
        request,
        _("%(old)s nay thuộc %(new)s; đang hiển thị số liệu theo đơn vị hiện nay.")
        % {"old": unit.name, "new": ", ".join(u.name for u in successors)},
    )
    return successors[0], True


def unit_choices(user, phase: Period, today: bool, selected: Unit | None, day=None):
    """Readable provinces and districts that existed in the period (or today, or on the
    day asked for), by level."""
    units = (
        scope.readable_units(user).filter(level__lte=Level.DISTRICT).exclude(kind=UnitKind.AGENCY)
    )
    if day is not None:
        units = units.valid_on(day)
    else:
        units = units.current() if today else units.valid_during(phase)
    units = list(units.order_by("level", "code")[:UNIT_CHOICES_LIMIT])
    if selected is not None and all(u.pk != selected.pk for u in units):
        units.append(selected)
    groups: dict[int, list[Unit]] = {}
    for unit in units:
        groups.setdefault(unit.level, []).append(unit)
    return [(Level(level).label, members) for level, members in sorted(groups.items())]


def indicator_table(request, programme: Programme) -> dict:
    """The context of the indicator table: the unit, one column per year and the whole phase."""
    unit = selected_unit(request)
    wanted_today = request.GET.get("today") == "1"
    day = view_day(request)
    if unit is not None:
        unit, today = resolve_today(request, unit, wanted_today or day is not None, day)
    else:
        today = False
    day = day if today else None
    try:
        years, phase = programme_periods(programme)
    except PeriodError as exc:
        messages.error(request, str(exc))
        return {"programme": programme, "unit": unit, "error": True}

    indicators = table_indicators(programme)
    groups: list[Group] = []
    flagged: list[tuple[Unit, str, int]] = []
    if unit is not None and indicators:
        columns, flagged = aggregate_columns(indicators, [*years, phase], unit, today, day)
        groups = group_rows(indicators, columns, years, phase)

    ancestors = []
    if unit is not None:
        ancestors = [a for a in unit.ancestors() if scope.can_read(request.user, a)]
    return {
        "programme": programme,
        "unit": unit,
        "today": today and day is None,
        "day": day,
        "day_param": format_date(day),
        "years": years,
        "phase": phase,
        "groups": groups,
        "has_indicators": bool(indicators),
        "flagged": flagged,
        "ancestors": ancestors,
        "unit_groups": unit_choices(request.user, phase, today, unit, day),
    }


def table_indicators(programme: Programme) -> list[Indicator]:
    """The programme's indicators in the table's order, by component."""
    return list(
        programme.indicators.select_related("component", "disaggregation")
        .prefetch_related("disaggregation__options")
        .order_by("component__order", "component__code", "order", "code")
    )


def aggregate_columns(
    indicators: list[Indicator], periods: list[Period], unit: Unit, today: bool, day=None
) -> tuple[dict[str, dict[str, Cell]], list[tuple[Unit, str, int]]]:
    """The unit's cells per period id and indicator code, and the old units that could not
    be re-expressed in today's tree, or the tree of ``day`` (once each, with the reason and
    how many of their values the last period — the whole phase — leaves out)."""
    columns: dict[str, dict[str, Cell]] = {}
    mappings = {}  # today's view: the unit is mapped once, not once per column
    aggregator = None
    for period in periods:
        aggregator = Aggregator(indicators, period, today=today, on=day, mappings=mappings)
        columns[period.id] = aggregator.for_unit(unit)
    return columns, aggregator.left_out([unit]) if aggregator is not None else []


def group_rows(
    indicators: list[Indicator],
    columns: dict[str, dict[str, Cell]],
    years: list[Period],
    phase: Period,
) -> list[Group]:
    """One row an indicator, grouped by component in the order of ``indicators``."""
    groups: list[Group] = []
    by_component: dict[int | None, Group] = {}
    for indicator in indicators:
        component = indicator.component
        key = component.pk if component else None
        if key not in by_component:
            name = component.name if component else _("Chỉ tiêu chung")
            by_component[key] = Group(name, [])
            groups.append(by_component[key])
        by_component[key].rows.append(indicator_row(indicator, columns, years, phase))
    return groups


def indicator_row(
    indicator: Indicator, columns: dict[str, dict[str, Cell]], years: list[Period], phase: Period
) -> Row:
    """An indicator's figure per year and for the phase, with its categories: a sub-row
    per category (the default), or — ``show_categories: columns`` — the categories beside
    the figure in each of its cells."""
    figures = [Figure(p, columns[p.id].get(indicator.code)) for p in years]
    row = Row(indicator, figures, Figure(phase, columns[phase.id].get(indicator.code)))
    if not indicator.disaggregation_id:
        return row
    options = list(indicator.disaggregation.options.all())
    if indicator.show_categories == CategoryDisplay.COLUMNS:
        for figure in [*row.years, row.phase]:
            figure.categories = [
                (option.name, text, _category_plan_note(figure.cell, option.code))
                for option in options
                if (text := _category_text(figure.cell, option.code))
            ]
        return row
    phase_cell = columns[phase.id].get(indicator.code)
    for option in options:
        texts = [_category_text(columns[p.id].get(indicator.code), option.code) for p in years]
        phase_text = _category_text(phase_cell, option.code)
        target, achieved = _category_plan(phase_cell, option.code)
        row.categories.append((option.name, texts, phase_text, target, achieved))
    return row


def _category_text(cell: Cell | None, code: str) -> str:
    if cell is None or code not in cell.categories:
        return ""
    return format_category(cell, code)


def _category_plan(cell: Cell | None, code: str) -> tuple[str, str]:
    """A category's own target and "% đạt" against it (the capital plan by funding source);
    empty when the plan is not set by category."""
    if cell is None or code not in cell.category_targets:
        return "", ""
    target = cell.indicator.display_text(cell.category_targets[code])
    return target, format_percent(cell.category_achieved(code))


def _category_plan_note(cell: Cell | None, code: str) -> str:
    target, achieved = _category_plan(cell, code)
    if not target:
        return ""
    if not achieved:
        return _("kế hoạch %(target)s") % {"target": target}
    return _("kế hoạch %(target)s, đạt %(percent)s") % {"target": target, "percent": achieved}


def _is_partial(request) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


@login_required
def programme_detail(request, code: str):
    programme = get_object_or_404(programmes_seen_by(request.user), code=code)
    context = indicator_table(request, programme)
    if request.GET.get("indicator") and request.GET.get("period") and context.get("unit"):
        context["drill"] = drill_context(
            request, programme, context["unit"], context["today"], context.get("day")
        )
    if _is_partial(request):
        response = render(request, "analytics/_indicator_table.html", context)
    else:
        context["documents"] = programme.documents.order_by("issued_on", "number")
        context["components"] = programme.components.annotate(
            indicator_count=Count("indicators")
        ).order_by("order", "code")
        response = render(request, "analytics/programme_detail.html", context)
    response["Vary"] = "HX-Request"
    return response


def drill_context(request, programme: Programme, unit: Unit, today: bool, day=None) -> dict:
    """One indicator for one period, broken down over the unit's children (readable only)."""
    indicator = get_object_or_404(
        Indicator.objects.select_related("disaggregation"),
        programme=programme,
        code=request.GET.get("indicator"),
    )
    try:
        period = Period.parse(request.GET.get("period", ""))
    except PeriodError as exc:
        return {"error": str(exc)}
    children = scope.readable_units(request.user).filter(parent=unit)
    if day is not None:
        children = children.valid_on(day)
    else:
        children = children.current() if today else children.valid_during(period)
    # administrative units by official code, then the agencies
    children = children.annotate(
        is_agency_sort=Case(
            When(kind=UnitKind.AGENCY, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("is_agency_sort", "code")
    page = Paginator(children, DRILL_PER_PAGE).get_page(request.GET.get("page"))
    members = list(page.object_list)
    # one batch for the unit and its children on this page
    cells = Aggregator([indicator], period, today=today, on=day).for_units([unit, *members])
    total = cells[unit.pk][indicator.code]
    rows = [
        # a unit that ended before the period did (a district abolished in mid-2025)
        (child, Figure(period, cells[child.pk][indicator.code]), _ended_before(child, period))
        for child in members
    ]
    return {
        "indicator": indicator,
        "period": period,
        "unit": unit,
        "today": today,
        "day_param": format_date(day),
        "rows": rows,
        "total": Figure(period, total),
        "page": page,
    }


def _ended_before(unit: Unit, period: Period) -> bool:
    return unit.valid_to is not None and unit.valid_to < period.end


@login_required
def programme_drill(request, code: str):
    """htmx partial: a figure of the table broken down over the unit's children."""
    programme = get_object_or_404(programmes_seen_by(request.user), code=code)
    unit = selected_unit(request)
    if unit is None:
        raise Http404(_("Đơn vị không tồn tại."))
    day = view_day(request)
    if day is not None and not unit.is_valid_on(day):
        day = None
    today = request.GET.get("today") == "1" and unit.is_current and day is None
    drill = drill_context(request, programme, unit, today, day)
    context = {"programme": programme, "drill": drill}
    return render(request, "analytics/_drill.html", context)


# -- the pivot explorer ------------------------------------------------------------------


class ExplorerExport(Exporter):
    """The explorer's whole table (every row, never a page of it) in Excel or CSV."""

    filename = "phan-tich"

    def __init__(self, table: explorer.Table):
        self.table = table

    def tables(self) -> list:
        return [explorer.export_table(self.table)]


def _query_with(request, **changes) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


@login_required
def explorer_page(request):
    """Indicators × units × periods as a table the user lays out (:mod:`.explorer`); the
    page's URL is the link to share, ``xuat=xlsx|csv`` downloads the whole table."""
    user = request.user
    asked = bool(request.GET)
    spec = explorer.parse_query(request.GET, user)
    table = None
    if asked and not spec.errors:
        fmt = request.GET.get("xuat")
        if fmt in ExplorerExport.formats:
            return ExplorerExport(explorer.build_table(spec, paged=False)).response(fmt)
        table = explorer.build_table(spec)
    try:
        range_period = spec.range_period
    except PeriodError:
        range_period = Period.year(spec.last_year)
    indicator_groups: dict = {}
    for indicator in explorer.visible_indicators(user):
        indicator_groups.setdefault(indicator.programme, []).append(indicator)
    chosen = {i.code for i in spec.indicators} | set(request.GET.getlist("chi_tieu"))
    return render(
        request,
        "analytics/explorer.html",
        {
            "spec": spec,
            "asked": asked,
            "table": table,
            "caption": explorer.caption(table) if table else "",
            "chosen": chosen,
            "max_indicators": explorer.MAX_INDICATORS,
            "indicator_groups": list(indicator_groups.items()),
            "unit_groups": unit_choices(user, range_period, spec.today, spec.unit),
            "levels": Level.choices,
            "period_types": list(explorer.PERIOD_TYPES.items()),
            "dimensions": list(explorer.DIMENSIONS.items()),
            "share_url": request.build_absolute_uri(f"?{_query_with(request, xuat=None)}"),
            "xlsx_query": _query_with(request, xuat="xlsx", trang=None),
            "csv_query": _query_with(request, xuat="csv", trang=None),
            "page_query": _query_with(request, xuat=None, trang=None),
        },
    )
