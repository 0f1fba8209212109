"""Register indicators as a package section: ``register_indicators:``.

An indicator stays defined in the package's ``indicators:`` (name, unit, aggregation…);
an item of this section binds it to a register, and its figures are then computed from the
records (:mod:`tiendo.households.figures`) instead of entered::

    register_indicators:
      - indicator: HG_HOUSEHOLDS_BENEFITING
        source: enrolment               # household | enrolment | loan | plot | cooperative …
        measure: distinct_households    # count | distinct_households | sum
        field: amount                   # the field summed (sum only)
        filter: {programme: [HG-NQ04, HG-NQ05], benefiting: true}
        period: to_period_end           # in_period | to_period_end | valid_on_period_end

``period`` places a record in a yearly figure: ``in_period``, the records dated in the year
(a flow: money disbursed in 2022), for an indicator aggregated by ``sum``, so a period of
several years is the sum of its years; ``to_period_end``, the records dated up to the
year's end (a stock: households implementing so far) and ``valid_on_period_end``, those
valid on that day (OCOP certificates in force), for an indicator aggregated by ``last``,
so a period of several years shows the stock at its end.

Every measure is written on the records' communes and sums up the unit tree correctly: a
count of records and a sum of a field add up by definition, and a count of distinct
households does too because a household lives in one commune only — no household is
counted in two communes, so the communes' counts never overlap. (It is not additive over
the *years* of a period: a household that borrowed in 2021 and 2022 is one household in
each year's figure; that is what ``sum`` over the years of an ``in_period`` count means, and
a stock is ``to_period_end`` for that reason.) An average or a range is not a register
measure: it is a formula over two register indicators (income ÷ gardens).

Checked whole before anything is written, every problem named by its key path
(``register_indicators[2].filter.benefiting``) in Vietnamese; loading the same file twice
changes nothing. The bindings of the programme the package no longer lists are removed
(the figures already written stay, and may be entered again).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from tiendo.households.models import Measure, PeriodMode, RegisterIndicator
from tiendo.households.sources import get_source, sources
from tiendo.programmes.metadata import describe, upsert
from tiendo.programmes.models import Aggregation, Indicator

MAX_ITEMS = 200
MAX_FILTER_KEYS = 10
MAX_FILTER_VALUES = 50
KIND = "chỉ tiêu tính từ sổ"

NUMERIC = (models.DecimalField, models.IntegerField, models.FloatField)
STOCK = {PeriodMode.TO_PERIOD_END.value, PeriodMode.VALID_ON_PERIOD_END.value}


def model_field(model, path: str):
    """The model field an ORM path ends on, and whether it crosses a to-many relation
    (then a filter on it must not multiply the records counted)."""
    many = False
    parts = path.split("__")
    for i, part in enumerate(parts):
        if part == "pk":
            part = model._meta.pk.name
        field = model._meta.get_field(part)
        if i == len(parts) - 1:
            return field, many
        many = many or field.one_to_many or field.many_to_many
        model = field.related_model
    raise FieldDoesNotExist(path)


def _source_model(source):
    return source.queryset().model


def check_section(items, checker, plan) -> list[dict]:
    """Check the ``register_indicators:`` items of a package (see ``programmes.metadata``)."""
    c = checker
    declared = {i["code"]: i for i in plan.get("indicators", [])}
    programme = (plan.get("programme") or {}).get("code")
    bound_elsewhere = dict(
        RegisterIndicator.objects.exclude(programme__code=programme).values_list(
            "indicator__code", "programme__code"
        )
    )
    if len(items) > MAX_ITEMS:
        c.error(
            "register_indicators",
            _("tối đa %(limit)s chỉ tiêu tính từ sổ trong một gói."),
            code="package.too_many",
            limit=MAX_ITEMS,
        )
        items = items[:MAX_ITEMS]
    checked, seen = [], set()
    for order, (path, item) in enumerate(items):
        one = _check_item(c, path, item, declared, bound_elsewhere, seen)
        if one is not None:
            checked.append({**one, "order": order})
    return checked


def _check_item(c, path, item, declared, bound_elsewhere, seen) -> dict | None:
    code = c.reference(item, "indicator", path)
    indicator = declared.get(code) if code else None
    if code and indicator is None:
        c.error(
            f"{path}.indicator",
            _(
                "chỉ tiêu “%(value)s” không có trong mục indicators của gói; chỉ tiêu tính "
                "từ sổ phải được khai báo trong chính gói này."
            ),
            code="package.unknown_indicator",
            value=code,
        )
    if code:
        c.once(seen, code, f"{path}.indicator", _("chỉ tiêu “%(value)s” được gắn với sổ hai lần."))
        if code in bound_elsewhere:
            c.error(
                f"{path}.indicator",
                _("chỉ tiêu “%(value)s” đã được tính từ sổ theo gói của chương trình “%(owner)s”."),
                code="package.bound_elsewhere",
                value=code,
                owner=bound_elsewhere[code],
            )
    source_key = c.reference(item, "source", path)
    source = get_source(source_key) if source_key else None
    if source_key and source is None:
        c.error(
            f"{path}.source",
            _("không có sổ “%(value)s”; dùng một trong: %(allowed)s."),
            code="package.unknown_source",
            value=source_key,
            allowed=", ".join(sorted(sources())),
        )
    measure = c.choice(item, "measure", path, Measure, Measure.COUNT.value)
    period = c.choice(item, "period", path, PeriodMode, PeriodMode.IN_PERIOD.value)
    field = _check_field(c, path, item, source, measure)
    filters = _check_filter(c, path, item, source)
    if source is not None:
        if measure == Measure.DISTINCT_HOUSEHOLDS and source.household is None:
            c.error(
                f"{path}.measure",
                _("sổ “%(register)s” không gắn với hộ nào: không đếm được số hộ."),
                code="package.no_households",
                register=source.key,
            )
        if period == PeriodMode.VALID_ON_PERIOD_END and source.valid_on is None:
            c.error(
                f"{path}.period",
                _(
                    "bản ghi của sổ “%(register)s” không có thời hạn hiệu lực; dùng in_period "
                    "hoặc to_period_end."
                ),
                code="package.no_validity",
                register=source.key,
            )
    if indicator is not None:
        _check_fits(c, path, indicator, measure, period)
    if not code or indicator is None or source is None:
        return None
    return {
        "indicator": code,
        "source": source.key,
        "measure": measure,
        "field": field,
        "filters": filters,
        "period": period,
    }


def _check_field(c, path, item, source, measure) -> str:
    name = c.reference(item, "field", path, required=False)
    if measure != Measure.SUM:
        if name:
            c.error(
                f"{path}.field",
                _("chỉ cần trường khi cộng (measure: sum); phép đếm không dùng trường."),
                code="package.field_not_summed",
            )
        return ""
    if not name:
        c.error(
            f"{path}.field",
            _("thiếu trường để cộng (bắt buộc khi measure: sum)."),
            code="package.missing",
        )
        return ""
    if source is None:
        return name
    if name not in source.fields:
        _unknown_field(c, f"{path}.field", source, name)
        return ""
    found, many = model_field(_source_model(source), source.fields[name])
    if not isinstance(found, NUMERIC) or isinstance(found, models.BooleanField) or many:
        c.error(
            f"{path}.field",
            _("trường “%(value)s” của sổ “%(register)s” không phải là số, không cộng được."),
            code="package.field_not_number",
            value=name,
            register=source.key,
        )
        return ""
    return name


def _unknown_field(c, key, source, name) -> None:
    c.error(
        key,
        _("sổ “%(register)s” không có trường “%(value)s”; dùng một trong: %(allowed)s."),
        code="package.unknown_field",
        register=source.key,
        value=describe(name),
        allowed=", ".join(sorted(source.fields)),
    )


def _check_filter(c, path, item, source) -> dict:
    raw = item.get("filter")
    if raw is None:
        return {}
    key = f"{path}.filter"
    if not isinstance(raw, dict):
        c.error(key, _("phải là một bảng trường: giá trị."), code="package.not_mapping")
        return {}
    names = list(dict.keys(raw))
    if len(names) > MAX_FILTER_KEYS:
        c.error(
            key, _("tối đa %(limit)s trường lọc."), code="package.too_many", limit=MAX_FILTER_KEYS
        )
        return {}
    filters = {}
    for name in names:
        value = dict.__getitem__(raw, name)
        where = f"{key}.{name}"
        if not isinstance(name, str) or not name.isascii():
            c.error(where, _("tên trường phải là chữ không dấu."), code="package.not_ascii")
            continue
        if source is None:
            continue
        if name not in source.fields:
            _unknown_field(c, where, source, name)
            continue
        found, _many = model_field(_source_model(source), source.fields[name])
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > MAX_FILTER_VALUES:
            c.error(
                where,
                _("cần từ 1 đến %(limit)s giá trị."),
                code="package.bad_filter",
                limit=MAX_FILTER_VALUES,
            )
            continue
        if all(_fits(found, v) for v in values):
            filters[name] = values
        else:
            c.error(where, _wrong_kind(found), code="package.bad_filter", value=describe(value))
    return filters


def _fits(found, value) -> bool:
    if isinstance(found, models.BooleanField):
        return isinstance(value, bool)
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(found, NUMERIC):
        return isinstance(value, int)
    return isinstance(value, (str, int)) and str(value).isascii() and len(str(value)) <= 120


def _wrong_kind(found):
    if isinstance(found, models.BooleanField):
        return _("“%(value)s” phải là true hoặc false.")
    if isinstance(found, NUMERIC):
        return _("“%(value)s” phải là số nguyên hoặc danh sách số nguyên.")
    return _("“%(value)s” phải là mã (chữ không dấu) hoặc danh sách mã.")


def _check_fits(c, path, indicator: dict, measure: str, period: str) -> None:
    code = indicator["code"]
    if indicator["formula"]:
        c.error(
            f"{path}.indicator",
            _("chỉ tiêu “%(value)s” được tính theo công thức, không tính từ sổ."),
            code="package.computed_indicator",
            value=code,
        )
        return
    if indicator["disaggregation"]:
        c.error(
            f"{path}.indicator",
            _("chỉ tiêu “%(value)s” có phân tổ; chỉ tiêu tính từ sổ chưa hỗ trợ phân tổ."),
            code="package.disaggregated",
            value=code,
        )
    aggregation = indicator["aggregation"]
    wanted = Aggregation.LAST.value if period in STOCK else Aggregation.SUM.value
    if aggregation != wanted:
        c.error(
            f"{path}.period",
            _(
                "chỉ tiêu “%(value)s” tổng hợp theo “%(aggregation)s”, nhưng period: "
                "%(period)s cần aggregation: %(wanted)s (số trong kỳ cộng dồn qua các năm; "
                "số lũy kế lấy giá trị cuối kỳ)."
            ),
            code="package.aggregation_mismatch",
            value=code,
            aggregation=aggregation,
            period=period,
            wanted=wanted,
        )
    if measure != Measure.SUM and indicator["value_type"] not in ("integer", "number"):
        c.error(
            f"{path}.measure",
            _("chỉ tiêu “%(value)s” là %(kind)s; phép đếm cho ra số hộ hoặc số bản ghi."),
            code="package.measure_mismatch",
            value=code,
            kind=indicator["value_type"],
        )


def apply_section(checked: list[dict], saved: dict, report) -> None:
    """Write the package's bindings; those of the programme no longer listed are removed."""
    programme = saved["programme"]
    indicators = {
        i.code: i
        for i in Indicator.objects.filter(code__in=[item["indicator"] for item in checked])
    }
    kept = []
    for item in checked:
        indicator = indicators[item["indicator"]]
        row = upsert(
            report,
            KIND,
            RegisterIndicator,
            {"indicator": indicator},
            {
                "programme": programme,
                "source": item["source"],
                "measure": item["measure"],
                "field": item["field"],
                "filters": item["filters"],
                "period": item["period"],
                "order": item["order"],
            },
        )
        kept.append(row.pk)
    gone = RegisterIndicator.objects.filter(programme=programme).exclude(pk__in=kept)
    for row in gone.select_related("indicator").order_by("order"):
        report.gone(KIND, row.indicator.code)
        row.delete()
