"""The rules of a criteria set, without the database: when an indicator, a criterion and
a commune meet the standard, and which band a number of criteria falls in.

The thresholds are data (``Threshold`` rows loaded from a set's package); nothing here
knows a number of any set.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tiendo.ntm.models import (
    LEVEL_ORDER,
    Comparison,
    CriteriaSet,
    CriterionIndicator,
    NtmLevel,
    SetTier,
    Threshold,
)

TIER_LEVEL = {
    SetTier.STANDARD: NtmLevel.STANDARD,
    SetTier.ADVANCED: NtmLevel.ADVANCED,
    SetTier.MODEL: NtmLevel.MODEL,
}


def threshold_for(indicator: CriterionIndicator, applies_to: str) -> Threshold | None:
    """The threshold of the commune's region or group, else the one for every commune.

    Reads ``indicator.thresholds.all()``: prefetch it when checking many communes."""
    by_class = {t.applies_to: t for t in indicator.thresholds.all()}
    return by_class.get(applies_to) or by_class.get("")


def indicator_met(
    indicator: CriterionIndicator, value: Decimal | None, applies_to: str
) -> bool | None:
    """Whether ``value`` reaches the indicator's threshold for ``applies_to``; None when it
    cannot be told (no value, a yes/no indicator, or no threshold for that class)."""
    if value is None or indicator.comparison == Comparison.MET:
        return None
    threshold = threshold_for(indicator, applies_to)
    if threshold is None or threshold.value is None:
        return None
    if indicator.comparison == Comparison.AT_LEAST:
        return value >= threshold.value
    return value <= threshold.value


def all_met(results: Iterable[bool | None]) -> bool | None:
    """True when every result is met, False when one is not, None when one is unknown and
    none is unmet."""
    results = list(results)
    if any(r is False for r in results):
        return False
    if not results or any(r is None for r in results):
        return None
    return True


def level_reached(criteria_set: CriteriaSet, met: int, total: int) -> str:
    """The level an assessment of ``criteria_set`` shows: the set's level when every
    criterion is met, "not yet" otherwise."""
    if total and met == total:
        return TIER_LEVEL[SetTier(criteria_set.tier)]
    return NtmLevel.NONE


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(NtmLevel(level))


def band_of(criteria_set: CriteriaSet, met: int) -> int | None:
    """Index in ``criteria_set.bands`` of the band ``met`` criteria fall in (bands are
    ``{"label", "min", "max"}``, bounds included), None when none holds it."""
    for index, band in enumerate(criteria_set.bands or []):
        if band.get("min", 0) <= met <= band.get("max", met):
            return index
    return None
