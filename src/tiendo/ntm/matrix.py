"""What the NTM pages read: the matrix of an area (communes × criteria for one set and
year), a commune's scorecard (criteria × years) and an area's progress by year.

Every query is set-based — a handful of queries per page whatever the number of
communes, none per commune — so that a province's matrix stays fast at national scale.

Two views of the tree, as for every figure:

- *history-true* (the default): the communes of the area as the tree was in the year —
  units of the set's level below the area (through the :class:`UnitAncestor` closure),
  valid on the year's reference day (31 December, or the day the area or the set ended
  if earlier), and any unit below the area assessed for that set and year;
- *the tree of a day* (``day``, ``?ngay=`` on the pages): the area is a unit of that
  day's tree, and the communes are those of its own subtree plus every older commune
  whose data went into it by then, through the chains of changes
  (:func:`tiendo.units.chains.map_units`). An older commune only partly inside the area
  (a split) is listed, marked, and left out of the counts: a commune is never counted
  in two areas.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, FilteredRelation, Q, QuerySet, Sum

from tiendo.ntm import rules
from tiendo.ntm.models import (
    Assessment,
    CriteriaSet,
    Criterion,
    CriterionResult,
    NtmLevel,
    Recognition,
    SetTier,
)
from tiendo.units.chains import descendants, forward_links, in_chunks, map_units
from tiendo.units.models import Level, Unit, UnitChange, UnitKind

NOT_ASSESSED = "none"  # the band filter's value for communes without an assessment


def year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def reference_day(area: Unit, criteria_set: CriteriaSet | None, year: int) -> date:
    """The day whose tree gives the communes of ``area`` in ``year``: the year's last day,
    or the day the area or the set ended, if that came first."""
    day = date(year, 12, 31)
    for end in (area.valid_to, criteria_set.valid_to if criteria_set else None):
        if end is not None and end < day:
            day = end
    return day


def _valid_on(day: date, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": day})) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": day})
    )


# The units a set is for: the national commune criteria are for xã (not phường or thị
# trấn, which are urban), the district criteria for huyện.
SUBJECT_KINDS = {Level.COMMUNE: [UnitKind.COMMUNE], Level.DISTRICT: [UnitKind.RURAL_DISTRICT]}


def subjects(criteria_set: CriteriaSet) -> Q:
    """The units of ``criteria_set``'s level and kinds (any unit but an agency at a level
    without a list)."""
    kinds = SUBJECT_KINDS.get(criteria_set.level)
    condition = Q(level=criteria_set.level) & ~Q(kind=UnitKind.AGENCY)
    return condition & Q(kind__in=kinds) if kinds else condition


def sets_in_year(level: int, year: int) -> QuerySet[CriteriaSet]:
    """The sets of units of ``level`` that applied on at least one day of ``year``."""
    start, end = year_span(year)
    return CriteriaSet.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=start), level=level, valid_from__lte=end
    ).order_by("valid_from", "tier", "code")


def set_years(criteria_set: CriteriaSet, *, until: int | None = None) -> list[int]:
    """The calendar years of a set, up to ``until`` (this year by default)."""
    last = until or date.today().year
    if criteria_set.valid_to is not None:
        last = min(last, criteria_set.valid_to.year)
    return list(range(criteria_set.valid_from.year, last + 1))


def band_label(criteria_set: CriteriaSet, index: int | None) -> str:
    if index is None:
        return ""
    return (criteria_set.bands or [])[index].get("label", "")


# --- who is in the area ----------------------------------------------------------------


@dataclass
class Members:
    """The units of an area for one set and year: a filter on :class:`Unit`, and the
    older units only partly inside it (today's view), with their share (``None`` when
    the split has no allocation share)."""

    condition: Q
    partial: dict[int, object] = field(default_factory=dict)
    flagged: list[tuple[Unit, str]] = field(default_factory=list)

    @property
    def whole(self) -> Q:
        """The condition, without the units only partly inside (those counted)."""
        if not self.partial:
            return self.condition
        return self.condition & ~Q(pk__in=list(self.partial))


def members(area: Unit, criteria_set: CriteriaSet, year: int, day: date | None = None) -> Members:
    """Which units of ``criteria_set``'s level are the area's in ``year`` (module doc).

    The condition applies to units annotated with their assessment ``a`` of the set and
    year (:func:`with_assessment`)."""
    level = Q(level=criteria_set.level) & ~Q(kind=UnitKind.AGENCY)
    # a unit of another kind (a phường) is listed only when it was assessed all the same
    kind = level & (subjects(criteria_set) | Q(a__id__isnull=False))
    in_year = _valid_on(reference_day(area, criteria_set, year)) | Q(a__id__isnull=False)
    if day is None:
        # one closure row per (unit, ancestor): the join cannot repeat a unit
        return Members(kind & Q(ancestor_links__ancestor=area) & in_year)
    mapping = map_units([area], day)[area.pk]
    older = dict(mapping.factors)
    flagged = [(u, reason) for u, reason in mapping.flagged if u.level == criteria_set.level]
    partial: dict[int, object] = {pk: f for pk, f in older.items() if f != 1}
    partial.update({u.pk: None for u, _reason in flagged})
    # one list of keys (the area's own units and the older ones mapped into it): an OR of
    # a subquery and a list would keep PostgreSQL from using the primary key
    own = Unit.objects.filter(level, ancestor_links__ancestor=area).values_list("pk", flat=True)
    ids = sorted({*own, *older, *(u.pk for u, _reason in flagged)})
    return Members(kind & Q(pk__in=ids) & in_year, partial, flagged)


def with_assessment(criteria_set: CriteriaSet, year: int) -> QuerySet[Unit]:
    return Unit.objects.annotate(
        a=FilteredRelation(
            "ntm_assessments",
            condition=Q(ntm_assessments__criteria_set=criteria_set, ntm_assessments__year=year),
        )
    )


def band_condition(criteria_set: CriteriaSet, band: str) -> Q | None:
    """The filter of one band (its index in the set's bands, or :data:`NOT_ASSESSED`) on
    units annotated with their assessment ``a``; ``None`` for an unknown band."""
    if band == NOT_ASSESSED:
        return Q(a__id__isnull=True)
    try:
        spec = (criteria_set.bands or [])[int(band)]
    except (ValueError, IndexError):
        return None
    condition = Q(a__criteria_met__gte=spec.get("min", 0))
    if "max" in spec:
        condition &= Q(a__criteria_met__lte=spec["max"])
    return condition


# --- the matrix ------------------------------------------------------------------------


@dataclass
class MatrixRow:
    unit_id: int
    path: str
    code: str
    name: str
    district: str
    assessment_id: int | None
    criteria_met: int | None
    level: str
    band: int | None
    illustrative: bool
    band_text: str = ""
    results: list[bool | None] = field(default_factory=list)
    cells: list = field(default_factory=list)  # what a page shows of each result
    partial: bool = False
    share: object = None
    now_in: list[str] = field(default_factory=list)

    @property
    def assessed(self) -> bool:
        return self.assessment_id is not None

    @property
    def level_label(self) -> str:
        return NtmLevel(self.level).label if self.level else ""


@dataclass
class Summary:
    units: int = 0
    assessed: int = 0
    met_all: int = 0
    criteria_met: int = 0
    illustrative: int = 0
    bands: list[int] = field(default_factory=list)
    partial: int = 0

    @property
    def not_assessed(self) -> int:
        return self.units - self.assessed

    @property
    def average(self):
        return self.criteria_met / self.assessed if self.assessed else None

    @property
    def met_all_percent(self):
        return self.met_all * 100 / self.units if self.units else None


class Matrix:
    """The matrix of ``area`` for ``criteria_set`` and ``year``, filtered by district and
    band; :meth:`summary` over the whole area (district filter applied, band not),
    :meth:`rows` for a slice of the filtered units."""

    def __init__(
        self,
        area: Unit,
        criteria_set: CriteriaSet,
        year: int,
        *,
        day: date | None = None,
        district: Unit | None = None,
        band: str = "",
    ):
        self.area, self.criteria_set, self.year, self.day = area, criteria_set, year, day
        self.district, self.band = district, band
        self.criteria = list(criteria_set.criteria.order_by("number"))
        self.members = members(area, criteria_set, year, day)
        base = with_assessment(criteria_set, year).filter(self.members.condition)
        if district is not None:
            base = base.filter(path__startswith=district.path)
        self.base = base
        filtered = base
        if band:
            condition = band_condition(criteria_set, band)
            filtered = base.filter(condition) if condition is not None else base
        self.filtered = filtered

    def summary(self) -> Summary:
        total = len(self.criteria)
        bands = self.criteria_set.bands or []
        counts = {
            "units": Count("pk"),
            "assessed": Count("a__id"),
            "met_all": Count("a__id", filter=Q(a__criteria_met__gte=total)),
            "criteria_met": Sum("a__criteria_met"),
            "illustrative": Count("a__id", filter=Q(a__illustrative=True)),
        }
        for index in range(len(bands)):
            counts[f"band_{index}"] = Count(
                "a__id", filter=band_condition(self.criteria_set, str(index))
            )
        whole = self.base.filter(self.members.whole) if self.members.partial else self.base
        found = whole.aggregate(**counts)
        summary = Summary(
            units=found["units"],
            assessed=found["assessed"],
            met_all=found["met_all"] if total else 0,
            criteria_met=found["criteria_met"] or 0,
            illustrative=found["illustrative"],
            bands=[found[f"band_{i}"] for i in range(len(bands))],
        )
        if self.members.partial:
            summary.partial = self.base.filter(pk__in=list(self.members.partial)).count()
        return summary

    def count(self, summary: Summary | None = None) -> int:
        """The number of filtered units: from ``summary`` when it tells (no unit only
        partly inside), else one query."""
        if summary is not None and not self.members.partial:
            if not self.band:
                return summary.units
            if self.band == NOT_ASSESSED:
                return summary.not_assessed
            if band_condition(self.criteria_set, self.band) is not None:
                return summary.bands[int(self.band)]
        return self.filtered.count()

    def districts(self) -> list[Unit]:
        """The districts the area's units lie in (the district filter's choices): in the
        year's tree the districts below the area that existed in the year; in the tree of
        a day the districts of the older units too."""
        districts = Unit.objects.filter(level=Level.DISTRICT).exclude(kind=UnitKind.AGENCY)
        if self.day is None:
            start, end = year_span(self.year)
            found = districts.filter(
                Q(valid_from__isnull=True) | Q(valid_from__lte=end),
                Q(valid_to__isnull=True) | Q(valid_to__gte=start),
                ancestor_links__ancestor=self.area,
            )
        else:
            parents = with_assessment(self.criteria_set, self.year).filter(self.members.condition)
            found = districts.filter(pk__in=parents.values("parent_id"))
        return list(found.order_by("code", "pk"))

    def rows(self, start: int = 0, stop: int | None = None) -> list[MatrixRow]:
        """The filtered units from ``start`` to ``stop`` by district and code, with their
        result per criterion (in the order of :attr:`criteria`)."""
        qs = self.filtered.order_by("parent__code", "code", "pk").values_list(
            "pk",
            "path",
            "code",
            "name",
            "parent__name",
            "parent__level",
            "a__id",
            "a__criteria_met",
            "a__level",
            "a__illustrative",
        )
        found = list(qs[start:stop])
        rows = []
        for pk, path, code, name, parent, parent_level, a_id, met, level, illustrative in found:
            band = rules.band_of(self.criteria_set, met) if a_id is not None else None
            rows.append(
                MatrixRow(
                    unit_id=pk,
                    path=path,
                    code=code,
                    name=name,
                    district=parent if parent_level == Level.DISTRICT else "",
                    assessment_id=a_id,
                    criteria_met=met,
                    level=level or "",
                    band=band,
                    illustrative=bool(illustrative),
                    band_text=band_label(self.criteria_set, band),
                    partial=pk in self.members.partial,
                    share=self.members.partial.get(pk),
                )
            )
        self._fill_results(rows)
        if self.day is not None:
            self._fill_now_in(rows)
        return rows

    def _fill_results(self, rows: list[MatrixRow]) -> None:
        position = {c.pk: i for i, c in enumerate(self.criteria)}
        by_assessment: dict[int, list] = {}
        for r in rows:
            r.results = [None] * len(self.criteria)
            if r.assessment_id is not None:
                by_assessment[r.assessment_id] = r.results
        for chunk in in_chunks(by_assessment):
            for a_id, criterion_id, met in CriterionResult.objects.filter(
                assessment_id__in=chunk
            ).values_list("assessment_id", "criterion_id", "met"):
                if criterion_id in position:
                    by_assessment[a_id][position[criterion_id]] = met

    def _fill_now_in(self, rows: list[MatrixRow]) -> None:
        """For an older unit, the units of the day's tree inside the area it became."""
        older = [r.unit_id for r in rows if not r.path.startswith(self.area.path)]
        if not older:
            return
        links = forward_links(older)
        memo: dict = {}
        reached = {pk: descendants(pk, links, memo) for pk in older}
        ids = set().union(*reached.values())
        units = {
            u.pk: u
            for chunk in in_chunks(ids)
            for u in Unit.objects.filter(pk__in=chunk).only(
                "pk", "name", "path", "valid_from", "valid_to"
            )
        }
        for r in rows:
            found = [
                units[pk]
                for pk in reached.get(r.unit_id, ())
                if pk in units
                and units[pk].is_valid_on(self.day)
                and units[pk].path.startswith(self.area.path)
            ]
            r.now_in = sorted(u.name for u in found)


# --- a commune's scorecard ---------------------------------------------------------------


@dataclass
class YearResult:
    year: int
    assessment_id: int | None = None
    criteria_met: int | None = None
    level: str = ""
    band: str = ""
    illustrative: bool = False
    version: int | None = None
    results: dict[int, bool | None] = field(default_factory=dict)  # criterion pk -> met

    @property
    def assessed(self) -> bool:
        return self.assessment_id is not None

    @property
    def level_label(self) -> str:
        return NtmLevel(self.level).label if self.level else ""


@dataclass
class SetCard:
    criteria_set: CriteriaSet
    criteria: list[Criterion]
    years: list[YearResult]
    recognitions: list[Recognition] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[Criterion, list[bool | None | str]]]:
        """One row a criterion: per year met (True / False), unknown (None), or "" when
        the year has no assessment."""
        return [
            (c, [y.results.get(c.pk) if y.assessed else "" for y in self.years])
            for c in self.criteria
        ]

    @property
    def illustrative(self) -> bool:
        return any(y.illustrative for y in self.years) or any(
            r.illustrative for r in self.recognitions
        )


def scorecard(unit: Unit, *, today: date | None = None) -> list[SetCard]:
    """The sets that applied to ``unit`` (of its level, during its life), each with the
    unit's result per criterion and year. A higher tier (nâng cao, kiểu mẫu) is shown
    only when the unit was assessed against it."""
    today = today or date.today()
    sets = CriteriaSet.objects.filter(level=unit.level).order_by("valid_from", "tier", "code")
    if unit.valid_to is not None:
        sets = sets.filter(valid_from__lte=unit.valid_to)
    if unit.valid_from is not None:
        sets = sets.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=unit.valid_from))
    assessments = list(
        Assessment.objects.filter(unit=unit).values(
            "pk", "criteria_set_id", "year", "criteria_met", "level", "illustrative", "version"
        )
    )
    assessed_sets = {a["criteria_set_id"] for a in assessments}
    sets = [s for s in sets if s.tier == SetTier.STANDARD or s.pk in assessed_sets]
    criteria: dict[int, list[Criterion]] = defaultdict(list)
    for c in Criterion.objects.filter(criteria_set__in=[s.pk for s in sets]).order_by(
        "criteria_set", "number"
    ):
        criteria[c.criteria_set_id].append(c)
    results: dict[int, dict[int, bool | None]] = defaultdict(dict)
    for a_id, c_id, met in CriterionResult.objects.filter(assessment__unit=unit).values_list(
        "assessment_id", "criterion_id", "met"
    ):
        results[a_id][c_id] = met
    recognitions: dict[int, list[Recognition]] = defaultdict(list)
    for r in Recognition.objects.filter(unit=unit).order_by("decision_date", "pk"):
        recognitions[r.criteria_set_id].append(r)
    by_set_year = {(a["criteria_set_id"], a["year"]): a for a in assessments}
    cards = []
    for cs in sets:
        first = max(cs.valid_from.year, unit.valid_from.year if unit.valid_from else 0)
        last = min(
            cs.valid_to.year if cs.valid_to else today.year,
            unit.valid_to.year if unit.valid_to else today.year,
            today.year,
        )
        years = set(range(first, last + 1)) | {y for s, y in by_set_year if s == cs.pk}
        shown = []
        for year in sorted(years):
            a = by_set_year.get((cs.pk, year))
            if a is None:
                shown.append(YearResult(year))
                continue
            shown.append(
                YearResult(
                    year,
                    assessment_id=a["pk"],
                    criteria_met=a["criteria_met"],
                    level=a["level"],
                    band=band_label(cs, rules.band_of(cs, a["criteria_met"])),
                    illustrative=a["illustrative"],
                    version=a["version"],
                    results=results.get(a["pk"], {}),
                )
            )
        cards.append(SetCard(cs, criteria[cs.pk], shown, recognitions.get(cs.pk, [])))
    return cards


def neighbours(unit: Unit) -> tuple[list[Unit], list[Unit]]:
    """The units ``unit`` came from and the units it became (one change away)."""
    links = UnitChange.objects.filter(Q(successor=unit) | Q(predecessor=unit)).select_related(
        "predecessor", "successor"
    )
    before, after = [], []
    for link in links:
        if link.successor_id == unit.pk:
            before.append(link.predecessor)
        else:
            after.append(link.successor)
    key = lambda u: (u.code, u.pk)  # noqa: E731
    return sorted(before, key=key), sorted(after, key=key)


# --- progress by year --------------------------------------------------------------------


@dataclass
class YearProgress:
    year: int
    units: int
    assessed: int
    met_all: int
    criteria_met: int
    bands: list[int]
    recognised: int
    illustrative: int
    previous_average: float | None = None

    @property
    def average(self):
        return self.criteria_met / self.assessed if self.assessed else None

    @property
    def change(self):
        if self.average is None or self.previous_average is None:
            return None
        return self.average - self.previous_average

    @property
    def met_all_percent(self):
        return self.met_all * 100 / self.units if self.units and self.assessed else None


def progress(
    area: Unit, criteria_set: CriteriaSet, *, day: date | None = None, until: int | None = None
) -> tuple[list[YearProgress], int]:
    """Per year of the set: the area's units, those assessed, meeting every criterion,
    per band, their average number of criteria met (and its change on the year before),
    the units recognised in the year; and how many units only partly inside the area
    (today's view) were left out. Four queries, whatever the number of years."""
    years = set_years(criteria_set, until=until)
    if not years:
        return [], 0
    total = criteria_set.criteria.count()
    bands = criteria_set.bands or []
    first_day, last_day = date(years[0], 1, 1), date(years[-1], 12, 31)
    # as in the matrix: a unit of another kind counts when it was assessed all the same
    assessed = Assessment.objects.filter(criteria_set=criteria_set).values("unit_id")
    unit_filter = Q(level=criteria_set.level) & ~Q(kind=UnitKind.AGENCY)
    unit_filter &= subjects(criteria_set) | Q(pk__in=assessed)
    unit_filter &= Q(valid_from__isnull=True) | Q(valid_from__lte=last_day)
    unit_filter &= Q(valid_to__isnull=True) | Q(valid_to__gte=first_day)
    own = Unit.objects.filter(ancestor_links__ancestor=area)
    partial: set[int] = set()
    if day is None:
        scope = Q(pk__in=own.values("pk"))
    else:
        mapping = map_units([area], day)[area.pk]
        whole = [pk for pk, f in mapping.factors.items() if f == 1]
        partial = {pk for pk, f in mapping.factors.items() if f != 1}
        partial |= {u.pk for u, _reason in mapping.flagged}
        # one list of keys, not an OR of a subquery and a list (see members)
        scope = Q(pk__in=sorted({*own.filter(unit_filter).values_list("pk", flat=True), *whole}))
    spans = list(Unit.objects.filter(unit_filter & scope).values_list("valid_from", "valid_to"))
    left_out = Unit.objects.filter(unit_filter, pk__in=list(partial)).count() if partial else 0

    counts = {
        "n_assessed": Count("pk"),
        "n_met_all": Count("pk", filter=Q(criteria_met__gte=total)),
        "met_sum": Sum("criteria_met"),
        "n_illustrative": Count("pk", filter=Q(illustrative=True)),
    }
    for index, spec in enumerate(bands):
        condition = Q(criteria_met__gte=spec.get("min", 0))
        if "max" in spec:
            condition &= Q(criteria_met__lte=spec["max"])
        counts[f"band_{index}"] = Count("pk", filter=condition)
    in_area = Unit.objects.filter(unit_filter & scope).values("pk")
    found = {
        row["year"]: row
        for row in Assessment.objects.filter(criteria_set=criteria_set, unit__in=in_area)
        .values("year")
        .annotate(**counts)
        .order_by("year")
    }
    recognised = dict(
        Recognition.objects.filter(criteria_set=criteria_set, unit__in=in_area)
        .values("year")
        .annotate(n=Count("unit", distinct=True))
        .values_list("year", "n")
    )
    out: list[YearProgress] = []
    previous = None
    for year in years:
        ref = reference_day(area, criteria_set, year) if day is None else date(year, 12, 31)
        units = sum(
            1
            for start, end in spans
            if (start is None or start <= ref) and (end is None or ref <= end)
        )
        row = found.get(year, {})
        entry = YearProgress(
            year=year,
            units=max(units, row.get("n_assessed", 0)),
            assessed=row.get("n_assessed", 0),
            met_all=row.get("n_met_all", 0) if total else 0,
            criteria_met=row.get("met_sum") or 0,
            bands=[row.get(f"band_{i}", 0) for i in range(len(bands))],
            recognised=recognised.get(year, 0),
            illustrative=row.get("n_illustrative", 0),
            previous_average=previous,
        )
        previous = entry.average
        out.append(entry)
    return out, left_out
