"""Pages that read the NTM assessments: an area's matrix (communes × criteria) with its
Excel export, a commune's scorecard (criteria × years) and an area's progress by year.

Every page fetches its unit through ``tiendo.accounts.scope`` (403 outside the user's
scope) and reads through :mod:`tiendo.ntm.matrix`: a handful of queries per page,
whatever the number of communes. ``?ngay=dd/mm/yyyy`` shows the tree of that day
(older communes re-expressed in the units they became), as on the programme page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.core import exporters as ex
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_number, format_percent
from tiendo.ntm import matrix as q
from tiendo.ntm.models import Assessment, CriteriaSet, SetTier
from tiendo.units.chains import parse_view_day
from tiendo.units.models import Level, Unit, UnitKind
from tiendo.units.services import current_successors

PER_PAGE = 100
EXPORT_LIMIT = 15_000  # rows of one Excel export: every commune of the country before 2025
AREA_CHOICES_LIMIT = 1000


# --- what the request asks for ---------------------------------------------------------


def _int(request, name: str) -> int | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404(_("Không tìm thấy.")) from None


def view_day(request) -> date | None:
    """The day whose tree the page shows (``?ngay=``); ``None`` without one or when it
    cannot be read (the page says why)."""
    raw = (request.GET.get("ngay") or "").strip()
    if not raw:
        return None
    try:
        return parse_view_day(raw)
    except TiendoError as exc:
        messages.error(request, str(exc))
        return None


def _home_area(user) -> Unit | None:
    if user.unit_id:
        return user.unit
    return (
        scope.readable_units(user).exclude(kind=UnitKind.AGENCY).order_by("level", "code").first()
    )


def requested_area(request) -> Unit | None:
    """The unit asked for (``?unit=``) or the user's own, checked against the scope; an
    agency stands for the administrative unit it belongs to."""
    pk = _int(request, "unit")
    if pk is None:
        unit = _home_area(request.user)
        # an agency's people read the agency's own subtree, which has no commune
        return None if unit is None or unit.is_agency else unit
    unit = scope.get_unit_or_403(request.user, pk)
    while unit.kind == UnitKind.AGENCY and unit.parent_id:
        unit = unit.parent
    return scope.check_unit(request.user, unit)


def in_tree_of(request, unit: Unit, day: date | None) -> tuple[Unit, date | None]:
    """In the tree of ``day`` a unit of an older tree stands for the unit it became; when
    the user may read none of those, the page stays in the tree of the year."""
    if day is None or unit.is_valid_on(day):
        return unit, day
    successors = [u for u in current_successors(unit, day) if scope.can_read(request.user, u)]
    if not successors:
        messages.warning(
            request,
            _(
                "%(unit)s không còn trong cây đơn vị ngày %(day)s và không có đơn vị nào "
                "bạn được xem thay cho nó; đang hiển thị theo cây đơn vị của năm đánh giá."
            )
            % {"unit": unit.name, "day": format_date(day)},
        )
        return unit, None
    messages.info(
        request,
        _("%(old)s nay thuộc %(new)s; đang hiển thị theo cây đơn vị ngày %(day)s.")
        % {"old": unit.name, "new": ", ".join(u.name for u in successors), "day": format_date(day)},
    )
    return successors[0], day


def _latest_year(area: Unit, criteria_set: CriteriaSet | None = None) -> int | None:
    found = Assessment.objects.filter(unit__ancestor_links__ancestor=area)
    if criteria_set is not None:
        found = found.filter(criteria_set=criteria_set)
    return found.aggregate(y=Max("year"))["y"]


def choose_set_and_year(request, area: Unit) -> tuple[list[CriteriaSet], CriteriaSet | None, int]:
    """The sets of the units below ``area``, the one asked for (``?set=`` code) or the
    standard commune set of the year, and the year (``?year=``, else the latest year
    assessed, else this year), kept within the set's years."""
    sets = list(CriteriaSet.objects.filter(level__gt=area.level).order_by("-level", "valid_from"))
    code = (request.GET.get("set") or "").strip()
    chosen = next((s for s in sets if s.code == code), None)
    if code and chosen is None:
        raise Http404(_("Không tìm thấy bộ tiêu chí."))
    year = _int(request, "year")
    this_year = date.today().year
    if chosen is None:
        guess = year or _latest_year(area) or this_year
        start, end = q.year_span(guess)
        applying = [
            s for s in sets if s.valid_from <= end and (s.valid_to is None or s.valid_to >= start)
        ]
        ordered = sorted(
            applying, key=lambda s: (s.level != Level.COMMUNE, s.tier != SetTier.STANDARD)
        )
        chosen = ordered[0] if ordered else (sets[-1] if sets else None)
    if chosen is None:
        return sets, None, year or this_year
    years = q.set_years(chosen) or [chosen.valid_from.year]
    if year is None:
        year = _latest_year(area, chosen) or min(max(this_year, years[0]), years[-1])
    if year not in years:
        messages.warning(
            request,
            _("Bộ tiêu chí “%(set)s” không áp dụng năm %(year)s; đang hiển thị năm %(shown)s.")
            % {
                "set": chosen.name,
                "year": year,
                "shown": years[-1] if year > years[-1] else years[0],
            },
        )
        year = years[-1] if year > years[-1] else years[0]
    return sets, chosen, year


def area_choices(user, year: int, day: date | None, selected: Unit) -> list[tuple[str, list[Unit]]]:
    """Readable areas of the year's tree (or of the day's), by level: the nation and the
    provinces, and the districts of the selected area's province (a list of every
    district of the country would be 700 options)."""
    units = scope.readable_units(user).filter(level__lt=Level.COMMUNE).exclude(kind=UnitKind.AGENCY)
    if day is not None:
        units = units.valid_on(day)
    else:
        start, end = q.year_span(year)
        units = units.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=end),
            Q(valid_to__isnull=True) | Q(valid_to__gte=start),
        )
    keys = selected.path.strip("/").split("/")
    if selected.level >= Level.PROVINCE and len(keys) > 1:
        # the districts of the selected area's province: "/nation/province/" and below
        province_path = "/" + "/".join(keys[:2]) + "/"
        units = units.filter(Q(level__lt=Level.DISTRICT) | Q(path__startswith=province_path))
    else:
        units = units.filter(level__lt=Level.DISTRICT)
    units = list(units.order_by("level", "code")[:AREA_CHOICES_LIMIT])
    if all(u.pk != selected.pk for u in units):
        units.append(selected)
    groups: dict[int, list[Unit]] = {}
    for unit in units:
        groups.setdefault(unit.level, []).append(unit)
    return [(Level(level).label, members) for level, members in sorted(groups.items())]


@dataclass
class MatrixRequest:
    area: Unit
    sets: list[CriteriaSet]
    criteria_set: CriteriaSet | None
    year: int
    day: date | None
    district: Unit | None
    band: str

    def query(self, **extra) -> str:
        params = {
            "unit": self.area.pk,
            "set": self.criteria_set.code if self.criteria_set else "",
            "year": self.year,
            "ngay": format_date(self.day),
            "district": self.district.pk if self.district else "",
            "band": self.band,
        }
        params.update(extra)
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def matrix_request(request) -> MatrixRequest | None:
    area = requested_area(request)
    if area is None:
        return None
    day = view_day(request)
    area, day = in_tree_of(request, area, day)
    sets, chosen, year = choose_set_and_year(request, area)
    district = None
    district_pk = _int(request, "district")
    if district_pk is not None:
        district = scope.get_unit_or_403(request.user, district_pk)
        if not district.is_within(area):
            raise Http404(_("Không tìm thấy."))
    band = (request.GET.get("band") or "").strip()
    if band and chosen is not None and q.band_condition(chosen, band) is None:
        raise Http404(_("Không tìm thấy."))
    return MatrixRequest(area, sets, chosen, year, day, district, band)


# --- the matrix ------------------------------------------------------------------------


@login_required
def matrix(request):
    if "unit" not in request.GET and request.user.unit_id:
        home = request.user.unit
        if home.level == Level.COMMUNE and not home.is_agency:
            return redirect("ntm:scorecard", pk=home.pk)
    asked = matrix_request(request)
    if asked is None:
        return render(request, "ntm/matrix.html", {"asked": None})
    context = {"asked": asked, "area": asked.area, "criteria_set": asked.criteria_set}
    context["area_groups"] = area_choices(request.user, asked.year, asked.day, asked.area)
    cs = asked.criteria_set
    if cs is not None:
        table = q.Matrix(
            asked.area, cs, asked.year, day=asked.day, district=asked.district, band=asked.band
        )
        summary = table.summary()
        total = table.count(summary)
        pages = max(1, -(-total // PER_PAGE))
        page = min(max(_int(request, "page") or 1, 1), pages)
        rows = table.rows((page - 1) * PER_PAGE, page * PER_PAGE)
        shown = result_cells()
        for r in rows:
            r.cells = [shown[m] for m in r.results]
        context.update(
            table=table,
            summary=summary,
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            previous_query=asked.query(page=page - 1) if page > 1 else "",
            next_query=asked.query(page=page + 1) if page < pages else "",
            bands=[
                (str(i), spec.get("label", ""), summary.bands[i], asked.query(band=i, page=""))
                for i, spec in enumerate(cs.bands or [])
            ],
            not_assessed_query=asked.query(band=q.NOT_ASSESSED),
            all_bands_query=asked.query(band=""),
            band_label=_band_text(cs, asked.band),
            districts=table.districts() if asked.area.level < Level.DISTRICT else [],
            years=q.set_years(cs),
            export_query=asked.query(),
            illustrative=summary.illustrative or any(r.illustrative for r in rows),
            flagged=table.members.flagged,
            # the area did not exist in the year: its communes of then are in today's view
            area_missing=asked.day is None
            and not asked.area.is_valid_during(_Year(*q.year_span(asked.year))),
            day_param=format_date(asked.day),
            today_param=format_date(date.today()),
            met_all_percent=format_percent(summary.met_all_percent),
            average=format_number(summary.average, 2),
        )
    return render(request, "ntm/matrix.html", context)


@dataclass
class _Year:
    start: date
    end: date


def _band_text(cs: CriteriaSet, band: str) -> str:
    if not band:
        return ""
    if band == q.NOT_ASSESSED:
        return _("Chưa đánh giá")
    return q.band_label(cs, int(band))


def result_cells() -> dict:
    """Met / not met / unknown → (CSS class, text, text for screen readers only): the
    matrix's cells made once per page, not by a template include per cell."""
    return {
        True: ("ntm-met", _("Đạt"), ""),
        False: ("ntm-unmet", _("Chưa đạt"), ""),
        None: ("ntm-none", "—", _("Chưa đánh giá")),
    }


def result_text(met) -> str:
    if met is True:
        return _("Đạt")
    if met is False:
        return _("Chưa đạt")
    return ""


class MatrixExport(ex.Exporter):
    """The matrix as officials keep it: one row a commune, one column a criterion."""

    formats = ("xlsx",)

    def __init__(self, table: q.Matrix, rows: list[q.MatrixRow], summary: q.Summary):
        self.table, self.rows, self.summary = table, rows, summary
        cs = table.criteria_set
        self.filename = ex.ascii_name(f"ntm-{cs.code}-{table.year}-{table.area.code}")

    def tables(self) -> list[ex.Table]:
        t, cs = self.table, self.table.criteria_set
        criteria = t.criteria
        widths = [6, 22, 28, 9, *([6] * len(criteria)), 9, 22, 16]
        title = [
            ex.title_line(_("BẢNG TỔNG HỢP KẾT QUẢ THỰC HIỆN TIÊU CHÍ NÔNG THÔN MỚI"), bold=True),
            ex.title_line(
                _("%(area)s — %(set)s — năm %(year)s")
                % {"area": t.area.name, "set": cs.name, "year": t.year}
            ),
        ]
        filters = []
        if t.district is not None:
            filters.append(_("Huyện: %(name)s") % {"name": t.district.name})
        if t.band:
            filters.append(_("Nhóm: %(band)s") % {"band": _band_text(cs, t.band)})
        if t.day is not None:
            filters.append(_("Theo cây đơn vị ngày %(day)s") % {"day": format_date(t.day)})
        if filters:
            title.append(ex.title_line("; ".join(filters), italic=True))
        if self.summary.illustrative or any(r.illustrative for r in self.rows):
            title.append(
                ex.title_line(
                    _("Số liệu minh họa, không phải số liệu chính thức."), bold=True, italic=True
                )
            )
        header = [
            ex.row(
                ex.text(_("STT"), down=2),
                ex.text(_("Huyện"), down=2),
                ex.text(_("Xã"), down=2),
                ex.text(_("Mã"), down=2),
                ex.text(_("Tiêu chí"), span=len(criteria)) if criteria else ex.blank(),
                ex.text(_("Số tiêu chí đạt"), down=2),
                ex.text(_("Mức đạt"), down=2),
                ex.text(_("Nhóm"), down=2),
            ),
            ex.row(*(ex.text(c.number) for c in criteria)),
        ]
        body = []
        for n, r in enumerate(self.rows, start=1):
            name = r.name + (" " + _("(minh họa)") if r.illustrative else "")
            if r.partial:
                name += " " + _("(một phần)")
            cells = [
                ex.number(n),
                ex.text(r.district),
                ex.text(name),
                ex.text(r.code),
                *(ex.text(result_text(m) if r.assessed else "", align="center") for m in r.results),
                ex.number(r.criteria_met) if r.assessed else ex.text(_("Chưa đánh giá")),
                ex.text(r.level_label if r.assessed else ""),
                ex.text(q.band_label(cs, r.band)),
            ]
            body.append(ex.row(*cells))
        notes = [
            ex.title_line(
                _("Tiêu chí: %(list)s")
                % {"list": "; ".join(f"{c.number}. {c.name}" for c in criteria)},
                size=10,
                wrap=True,
            )
        ]
        return [
            ex.Table(
                name=_("Kết quả tiêu chí")[:31],
                widths=widths,
                title=title,
                header=header,
                body=body,
                notes=notes,
                frozen_columns=4,
                header_fill="EAF0F6",
            )
        ]


@login_required
def matrix_export(request):
    asked = matrix_request(request)
    if asked is None or asked.criteria_set is None:
        raise Http404(_("Không tìm thấy bộ tiêu chí."))
    table = q.Matrix(
        asked.area,
        asked.criteria_set,
        asked.year,
        day=asked.day,
        district=asked.district,
        band=asked.band,
    )
    rows = table.rows(0, EXPORT_LIMIT)
    return MatrixExport(table, rows, table.summary()).response("xlsx")


# --- a commune's scorecard -------------------------------------------------------------


@login_required
def scorecard(request, pk: int):
    unit = scope.get_unit_or_403(request.user, pk)
    cards = q.scorecard(unit)
    before, after = q.neighbours(unit)
    parent = unit.parent if unit.parent_id and scope.can_read(request.user, unit.parent) else None
    context = {
        "unit": unit,
        "cards": cards,
        "before": [u for u in before if scope.can_read(request.user, u)],
        "after": [u for u in after if scope.can_read(request.user, u)],
        "parent": parent,
        "illustrative": any(card.illustrative for card in cards),
    }
    return render(request, "ntm/scorecard.html", context)


# --- progress by year ------------------------------------------------------------------


@dataclass
class ProgressTable:
    criteria_set: CriteriaSet
    years: list[q.YearProgress]
    left_out: int

    @property
    def illustrative(self) -> bool:
        return any(y.illustrative for y in self.years)


@login_required
def progress(request):
    area = requested_area(request)
    if area is None:
        return render(request, "ntm/progress.html", {"area": None})
    day = view_day(request)
    area, day = in_tree_of(request, area, day)
    sets = list(CriteriaSet.objects.filter(level__gt=area.level).order_by("-level", "valid_from"))
    code = (request.GET.get("set") or "").strip()
    if code:
        shown = [s for s in sets if s.code == code]
        if not shown:
            raise Http404(_("Không tìm thấy bộ tiêu chí."))
    else:
        shown = [s for s in sets if s.level == Level.COMMUNE and s.tier == SetTier.STANDARD]
        if day is None:
            shown = [s for s in shown if _overlaps(s, area)]
    tables = []
    for cs in shown:
        years, left_out = q.progress(area, cs, day=day)
        tables.append(ProgressTable(cs, years, left_out))
    context = {
        "area": area,
        "sets": sets,
        "code": code,
        "tables": tables,
        "day_param": format_date(day),
        "today_param": format_date(date.today()),
        "illustrative": any(t.illustrative for t in tables),
        # the areas of the selected one's tree (the last year it existed)
        "area_groups": area_choices(request.user, (area.valid_to or date.today()).year, day, area),
    }
    return render(request, "ntm/progress.html", context)


def _overlaps(cs: CriteriaSet, unit: Unit) -> bool:
    return (unit.valid_to is None or cs.valid_from <= unit.valid_to) and (
        cs.valid_to is None or unit.valid_from is None or unit.valid_from <= cs.valid_to
    )
