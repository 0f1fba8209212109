"""The figures of the NTM engine, as indicators of the set's programme.

For a set with code C the prefix is ``P = "NTM_" + C.replace("-", "_")`` and the
indicators are (all yearly, period ``"2024"``, written on the commune):

- ``P_ASSESSED`` communes assessed (1 per commune assessed that year), sum;
- ``P_MET_ALL`` communes meeting every criterion (1 or 0), sum;
- ``P_MET_ALL_PCT`` = ``P_MET_ALL / P_ASSESSED * 100``, a formula: evaluated after
  aggregation, so for a district it is its communes meeting the standard over its communes
  assessed, never an average of the communes' percentages;
- ``P_CRITERIA`` criteria met (the commune's count), sum;
- ``P_CRITERIA_AVG`` = ``P_CRITERIA / P_ASSESSED``, a formula: the average number of
  criteria per commune assessed. Its change on the previous year is the same formula one
  year before, subtracted (:func:`summary` reads both years through the aggregation; a
  year without assessments has no average and no change, never 0);
- ``P_BAND`` communes per band of criteria met, sum, disaggregated by the set's bands
  (options ``B1``…``Bn`` in the order of ``bands``, highest first): 1 in the band the
  commune falls in, nothing in the others;
- ``P_C01``…``P_Cnn`` communes meeting criterion n (1 or 0; a criterion not assessed
  counts as not met), sum;
- ``P_RECOGNISED`` communes recognised in the year (a recognition of the set whose year
  is that year and not withdrawn by the year's end), sum;
- ``P_RECOGNISED_TOTAL`` communes recognised and in force at the year's end, sum.

The values are written through :mod:`tiendo.data.services` (source ``ntm``, with history
and rollups) by the after-save hook of :mod:`tiendo.ntm.services`, so pivots, programme
pages, documents, history-true and today's views read them as any figure. They are
computed: a write guard refuses them from anyone else (a form, an Excel file, the API),
and the engine writes them inside :func:`tiendo.data.services.computed_write`, which
skips the guards (an approved report or a closed entry window locks what people enter,
not the counts an assessment implies).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tiendo.ntm import rules
from tiendo.ntm.models import Assessment, CriteriaSet, Recognition
from tiendo.programmes.models import (
    Aggregation,
    CategoryOption,
    Disaggregation,
    Indicator,
    ValueType,
)

SOURCE = "ntm"
ONE, ZERO = Decimal(1), Decimal(0)


def prefix(cs: CriteriaSet) -> str:
    return "NTM_" + cs.code.replace("-", "_")


def indicator_code(cs: CriteriaSet, what: str | int) -> str:
    """The code of one figure of ``cs``: ``what`` is ``"ASSESSED"``, ``"MET_ALL"``, …, or
    a criterion's number (``3`` → ``P_C03``)."""
    if isinstance(what, int):
        what = f"C{what:02d}"
    return f"{prefix(cs)}_{what}"


def band_code(index: int) -> str:
    return f"B{index + 1}"


def _unit_word(cs: CriteriaSet) -> str:
    from tiendo.units.models import Level

    return "huyện" if cs.level == Level.DISTRICT else "xã"


def _definitions(cs: CriteriaSet) -> list[dict]:
    """What :func:`ensure_figures` makes, in order."""
    word = _unit_word(cs)
    code = lambda what: indicator_code(cs, what)  # noqa: E731
    defs = [
        {
            "code": code("ASSESSED"),
            "name": _("Số %(unit)s được đánh giá theo %(set)s"),
            "measure_unit": word,
            "value_type": ValueType.INTEGER,
        },
        {
            "code": code("MET_ALL"),
            "name": _("Số %(unit)s đạt đủ các tiêu chí của %(set)s"),
            "measure_unit": word,
            "value_type": ValueType.INTEGER,
        },
        {
            "code": code("MET_ALL_PCT"),
            "name": _("Tỷ lệ %(unit)s đạt đủ các tiêu chí của %(set)s"),
            "measure_unit": "%",
            "value_type": ValueType.PERCENT,
            "decimals": 2,
            "formula": f"{code('MET_ALL')} / {code('ASSESSED')} * 100",
        },
        {
            "code": code("CRITERIA"),
            "name": _("Tổng số tiêu chí đạt của các %(unit)s (%(set)s)"),
            "measure_unit": "tiêu chí",
            "value_type": ValueType.INTEGER,
        },
        {
            "code": code("CRITERIA_AVG"),
            "name": _("Số tiêu chí đạt bình quân mỗi %(unit)s (%(set)s)"),
            "measure_unit": "tiêu chí/" + word,
            "value_type": ValueType.NUMBER,
            "decimals": 2,
            "formula": f"{code('CRITERIA')} / {code('ASSESSED')}",
        },
        {
            "code": code("BAND"),
            "name": _("Số %(unit)s theo số tiêu chí đạt (%(set)s)"),
            "measure_unit": word,
            "value_type": ValueType.INTEGER,
            "bands": True,
        },
    ]
    for criterion in cs.criteria.order_by("number"):
        defs.append(
            {
                "code": code(criterion.number),
                "name": _("Số %(unit)s đạt tiêu chí số %(n)s (%(criterion)s) — %(set)s"),
                "params": {"n": criterion.number, "criterion": criterion.name},
                "measure_unit": word,
                "value_type": ValueType.INTEGER,
            }
        )
    defs += [
        {
            "code": code("RECOGNISED"),
            "name": _("Số %(unit)s được công nhận trong năm (%(set)s)"),
            "measure_unit": word,
            "value_type": ValueType.INTEGER,
        },
        {
            "code": code("RECOGNISED_TOTAL"),
            "name": _("Số %(unit)s được công nhận, còn hiệu lực cuối năm (%(set)s) — lũy kế"),
            "measure_unit": word,
            "value_type": ValueType.INTEGER,
        },
    ]
    return defs


def ensure_figures(cs: CriteriaSet) -> list[Indicator]:
    """Create or update the figures of ``cs`` in its programme (nothing without one).

    Idempotent: run again after a package changed the set, it renames, re-orders and adds
    what changed; a criterion no longer in the set keeps its indicator (its values and
    history stay), marked ``retired``; a band no longer in the set keeps its option."""
    if cs.programme_id is None:
        return []
    with transaction.atomic():
        bands = _ensure_bands(cs)
        made, codes = [], set()
        for order, d in enumerate(_definitions(cs)):
            params = {"unit": _unit_word(cs), "set": cs.code, **d.get("params", {})}
            fields = {
                "programme": cs.programme,
                "name": str(d["name"] % params)[:400],
                "short_name": "",
                "measure_unit": d["measure_unit"],
                "value_type": d["value_type"],
                "aggregation": Aggregation.SUM,
                "decimals": d.get("decimals", 0),
                "formula": d.get("formula", ""),
                "disaggregation": bands if d.get("bands") else None,
                "min_value": None if d.get("formula") else ZERO,
                "order": 9000 + order,  # after the package's own indicators
                "retired": False,
                "levels": [],
            }
            indicator, created = Indicator.objects.get_or_create(code=d["code"], defaults=fields)
            if not created and any(getattr(indicator, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(indicator, k, v)
                indicator.save()
            made.append(indicator)
            codes.add(d["code"])
        Indicator.objects.filter(
            programme=cs.programme, code__regex=rf"^{prefix(cs)}_C[0-9]+$", retired=False
        ).exclude(code__in=codes).update(retired=True)
    return made


def _ensure_bands(cs: CriteriaSet) -> Disaggregation:
    disaggregation, _created = Disaggregation.objects.update_or_create(
        code=f"{prefix(cs)}_BANDS"[:40],
        defaults={"name": str(_("Nhóm theo số tiêu chí đạt (%(set)s)") % {"set": cs.code})},
    )
    for index, band in enumerate(cs.bands or []):
        CategoryOption.objects.update_or_create(
            disaggregation=disaggregation,
            code=band_code(index),
            defaults={"name": str(band.get("label", band_code(index)))[:200], "order": index},
        )
    return disaggregation


def figure_codes(cs: CriteriaSet) -> set[str]:
    """The stored (not formula) figures of ``cs``: what only the engine writes."""
    return {d["code"] for d in _definitions(cs) if not d.get("formula")} | _retired_criterion_codes(
        cs
    )


def _retired_criterion_codes(cs: CriteriaSet) -> set[str]:
    if cs.programme_id is None:
        return set()
    return set(
        Indicator.objects.filter(
            programme_id=cs.programme_id, code__regex=rf"^{prefix(cs)}_C[0-9]+$"
        ).values_list("code", flat=True)
    )


# -- writing -----------------------------------------------------------------------------


def _indicators(cs: CriteriaSet) -> dict[str, Indicator]:
    found = {
        i.code: i
        for i in Indicator.objects.filter(
            programme_id=cs.programme_id, code__startswith=prefix(cs) + "_"
        )
        .select_related("disaggregation")
        .prefetch_related("disaggregation__options")  # the band entries' checks read them
    }
    if indicator_code(cs, "ASSESSED") not in found:  # a set loaded before the hook existed
        ensure_figures(cs)
        return _indicators(cs)
    return found


def _year_end(year: int) -> date:
    return date(year, 12, 31)


def _recognition_values(cs, unit, year, recognitions) -> tuple[Decimal, Decimal]:
    end = _year_end(year)
    this_year = any(
        r.year == year and (r.withdrawn_on is None or r.withdrawn_on > end) for r in recognitions
    )
    in_force = any(r.year <= year and r.in_force_on(end) for r in recognitions)
    return (ONE if this_year else ZERO), (ONE if in_force else ZERO)


def entries_for(cs, unit, year, assessment, recognitions, indicators, results=None) -> list:
    """The entries of one commune's figures for one year: of its assessment (when it has
    one) and its recognitions. ``results`` maps criterion numbers to met (read from the
    assessment when not given); ``cs.criteria`` is read through ``_numbers``."""
    from tiendo.data.services import Entry

    period = str(year)

    def entry(what, value, category=""):
        return Entry(indicators[indicator_code(cs, what)], unit, period, value, category)

    out = []
    if assessment is not None:
        if results is None:
            results = {r.criterion.number: r.met for r in assessment.results.all()}
        numbers = _numbers(cs)
        met = sum(1 for n in numbers if results.get(n))
        out.append(entry("ASSESSED", ONE))
        out.append(entry("MET_ALL", ONE if numbers and met == len(numbers) else ZERO))
        out.append(entry("CRITERIA", Decimal(met)))
        band = rules.band_of(cs, met)
        for index, _band in enumerate(cs.bands or []):
            out.append(entry("BAND", ONE if index == band else None, band_code(index)))
        for number in numbers:
            out.append(entry(number, ONE if results.get(number) else ZERO))
    recognised, in_force = _recognition_values(cs, unit, year, recognitions)
    out.append(entry("RECOGNISED", recognised))
    out.append(entry("RECOGNISED_TOTAL", in_force))
    return out


def _numbers(cs: CriteriaSet) -> list[int]:
    """The set's criterion numbers, read once per set instance."""
    if "_figure_numbers" not in cs.__dict__:
        cs._figure_numbers = sorted(cs.criteria.values_list("number", flat=True))
    return cs._figure_numbers


def _last_year(cs: CriteriaSet, unit) -> int:
    ends = [date.today().year]
    if cs.valid_to:
        ends.append(cs.valid_to.year)
    if unit.valid_to:
        ends.append(unit.valid_to.year)
    return min(ends)


def write_figures(groups, *, user=None, recognitions=None) -> None:
    """Write the figures of each (criteria set, unit, years) in ``groups``, in one save.
    ``recognitions`` (by (set id, unit id)) saves reading them again."""
    from tiendo.data.services import computed_write, save_values
    from tiendo.ntm.models import CriterionResult

    groups = [(cs, unit, years) for cs, unit, years in groups if cs.programme_id and years]
    if not groups:
        return
    if recognitions is None:
        recognitions = _recognitions(groups)
    assessments = {
        (a.criteria_set_id, a.unit_id, a.year): a
        for a in Assessment.objects.filter(
            criteria_set_id__in={cs.pk for cs, _u, _y in groups},
            unit_id__in={unit.pk for _c, unit, _y in groups},
            year__in={y for _c, _u, years in groups for y in years},
        )
    }
    results: dict[int, dict[int, bool | None]] = {}
    for assessment_id, number, met in CriterionResult.objects.filter(
        assessment_id__in=[a.pk for a in assessments.values()]
    ).values_list("assessment_id", "criterion__number", "met"):
        results.setdefault(assessment_id, {})[number] = met
    entries, by_set = [], {}
    for cs, unit, years in groups:
        if cs.pk not in by_set:
            by_set[cs.pk] = _indicators(cs)
        for year in sorted(years):
            a = assessments.get((cs.pk, unit.pk, year))
            entries += entries_for(
                cs,
                unit,
                year,
                a,
                recognitions.get((cs.pk, unit.pk), []),
                by_set[cs.pk],
                results.get(a.pk, {}) if a else None,
            )
    entries = _changed(entries)
    if entries:
        with computed_write():
            save_values(entries, user=user, source=SOURCE)


def _recognitions(groups) -> dict[tuple[int, int], list[Recognition]]:
    found: dict[tuple[int, int], list[Recognition]] = {}
    for r in Recognition.objects.filter(
        criteria_set_id__in={cs.pk for cs, _u, _y in groups},
        unit_id__in={unit.pk for _c, unit, _y in groups},
    ):
        found.setdefault((r.criteria_set_id, r.unit_id), []).append(r)
    return found


def _changed(entries: list) -> list:
    """The entries whose figure differs from the one stored (one query): a save changes a
    few of a commune's figures, and each value written costs a lock, a history row and
    the rollups of its ancestors."""
    from tiendo.data.models import DataValue

    if not entries:
        return entries
    stored = {
        (i, u, p, c): v
        for i, u, p, c, v in DataValue.objects.filter(
            unit_id__in={e.unit.pk for e in entries},
            indicator_id__in={e.indicator.pk for e in entries},
            period__in={e.period for e in entries},
        ).values_list("indicator_id", "unit_id", "period", "category", "value")
    }
    return [
        e
        for e in entries
        if stored.get((e.indicator.pk, e.unit.pk, e.period, e.category)) != e.value
    ]


def after_save(assessments: list[Assessment]) -> None:
    """The after-save hook: the figures of every assessment written, for its year and,
    when its commune has a recognition of the set, for every year from the first one
    recognised (what is in force at each year's end follows)."""
    by_key: dict[tuple[int, int], tuple] = {}
    for a in assessments:
        cs, unit = a.criteria_set, a.unit
        by_key.setdefault((cs.pk, unit.pk), (cs, unit, set()))[2].add(a.year)
    groups = list(by_key.values())
    recognitions = _recognitions(groups)
    for key, (cs, unit, years) in by_key.items():
        found = recognitions.get(key)
        if found:
            first = min(r.year for r in found)
            years.update(range(first, max(_last_year(cs, unit), first) + 1))
        by_key[key] = (cs, unit, _valid_years(cs, unit, years))
    user = assessments[0].updated_by if assessments else None
    write_figures(list(by_key.values()), user=user, recognitions=recognitions)


def _valid_years(cs, unit, years) -> set[int]:
    from tiendo.programmes.periods import Period

    return {y for y in years if unit.is_valid_during(Period.parse(str(y)))}


def recognitions_changed(recognition: Recognition, *, user=None) -> None:
    """Rewrite the figures of the recognition's commune from its year on."""
    cs, unit = recognition.criteria_set, recognition.unit
    years = set(range(recognition.year, max(_last_year(cs, unit), recognition.year) + 1))
    assessed = set(
        Assessment.objects.filter(
            unit=unit, criteria_set=cs, year__gte=recognition.year
        ).values_list("year", flat=True)
    )
    write_figures([(cs, unit, _valid_years(cs, unit, years | assessed))], user=user)


# -- the guard ---------------------------------------------------------------------------


def computed_figure_guard(pairs) -> list[str | None]:
    """A write guard: the engine's figures are refused from anyone but the engine."""
    ids = {entry.indicator.programme_id for entry, _period in pairs}
    candidates = [e for e, _p in pairs if e.indicator.code.startswith("NTM_")]
    if not candidates:
        return [None] * len(pairs)
    codes: set[str] = set()
    for cs in CriteriaSet.objects.filter(programme_id__in=ids):
        codes |= figure_codes(cs)
    message = _(
        "số liệu được tính từ kết quả đánh giá tiêu chí nông thôn mới, không nhập trực tiếp; "
        "hãy nhập hoặc sửa đánh giá của xã."
    )
    return [message if entry.indicator.code in codes else None for entry, _period in pairs]


# -- reading -----------------------------------------------------------------------------


def figure_indicators(cs: CriteriaSet) -> list[Indicator]:
    return list(
        Indicator.objects.filter(
            programme_id=cs.programme_id, code__startswith=prefix(cs) + "_"
        ).select_related("disaggregation")
    )


def summary(unit, cs: CriteriaSet, year: int, on: date | None = None) -> dict:
    """The NTM summary of ``unit`` (a province, a district, a commune) for ``year``, read
    through the aggregation the programme pages use: history-true by default, the tree of
    ``on`` (today's view: ``on=date.today()``) when given.

    Returns ``assessed``, ``met_all``, ``met_all_pct``, ``bands`` (``[{code, label,
    value}]`` in the set's order), ``criteria_avg``, ``criteria_avg_previous``,
    ``criteria_avg_change`` (None when either year has no average), ``criteria``
    (``[{number, name, value}]``), ``recognised``, ``recognised_total`` and ``flagged``
    (older units today's view had to leave out: ``[(unit, reason)]``). A figure without
    data is None."""
    from tiendo.data.aggregation import Aggregator

    indicators = [i for i in figure_indicators(cs) if not i.retired]
    mappings: dict = {}
    this = Aggregator(indicators, str(year), on=on, mappings=mappings)
    cells = this.for_unit(unit)
    flagged = list(this.flagged)

    def value(what):
        cell = cells.get(indicator_code(cs, what))
        return cell.value if cell is not None else None

    previous_avg = None
    if year > 1:
        before = Aggregator(
            [i for i in indicators if i.code == indicator_code(cs, "CRITERIA_AVG")],
            str(year - 1),
            on=on,
            mappings=mappings,
        )
        cell = before.for_unit(unit).get(indicator_code(cs, "CRITERIA_AVG"))
        previous_avg = cell.value if cell is not None else None
    average = value("CRITERIA_AVG")
    band_cell = cells.get(indicator_code(cs, "BAND"))
    bands = [
        {
            "code": band_code(index),
            "label": band.get("label", ""),
            "value": band_cell.categories.get(band_code(index)) if band_cell else None,
        }
        for index, band in enumerate(cs.bands or [])
    ]
    criteria = [
        {"number": c.number, "name": c.name, "value": value(c.number)}
        for c in cs.criteria.order_by("number")
    ]
    return {
        "unit": unit,
        "criteria_set": cs,
        "year": year,
        "on": on,
        "assessed": value("ASSESSED"),
        "met_all": value("MET_ALL"),
        "met_all_pct": value("MET_ALL_PCT"),
        "bands": bands,
        "criteria_avg": average,
        "criteria_avg_previous": previous_avg,
        "criteria_avg_change": (
            average - previous_avg if average is not None and previous_avg is not None else None
        ),
        "criteria": criteria,
        "recognised": value("RECOGNISED"),
        "recognised_total": value("RECOGNISED_TOTAL"),
        "flagged": flagged,
    }
