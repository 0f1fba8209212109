"""Assessments for the page tests, written through the service as every entry is."""

from __future__ import annotations

from datetime import date

from tests.ntm.helpers import small_set
from tiendo.ntm.models import Assessment
from tiendo.ntm.services import AssessmentInput, save_assessments

# c1 meets every criterion, c2 two of three, c3 none; c4 is not assessed
RESULTS_2024 = {
    "c1": {1: True, 2: True, 3: True},
    "c2": {1: True, 2: False, 3: True},
    "c3": {1: False, 2: False, 3: False},
}


def assess(tree, cs, year: int, results: dict[str, dict[int, bool | None]], *, user=None):
    """Save ``results`` (commune attribute of the mini tree → criterion → met) for
    ``year``; the assessments written."""
    items = [
        AssessmentInput(
            unit=getattr(tree, name), criteria_set=cs, year=year, criteria=met, applies_to="MN"
        )
        for name, met in results.items()
    ]
    return save_assessments(items, user=user).assessments


def ntm_world(tree, *, illustrative: bool = False):
    """The 2021–2025 set with Hà Giang's communes assessed in 2023 and 2024, and the
    2026–2030 set with Tuyên Quang's new commune N1 assessed in 2026."""
    old = small_set("T-2021-2025")
    new = small_set("T-2026-2030", valid_from=date(2026, 1, 1), valid_to=date(2030, 12, 31))
    assess(tree, old, 2023, {"c1": {1: True, 2: False, 3: True}, "c2": {1: False, 2: False}})
    assess(tree, old, 2024, RESULTS_2024)
    assess(tree, new, 2026, {"n1": {1: True, 2: True, 3: False}})
    if illustrative:
        Assessment.objects.filter(criteria_set=old, year=2024).update(illustrative=True)
    return old, new


def access_assessments(tree) -> None:
    """The set and Xã Một's and Xã Hai's 2024 assessments for the access walk
    (tests/test_access.py), written once however many routes ask for them."""
    from tiendo.ntm.models import CriteriaSet

    if CriteriaSet.objects.filter(code="T-2021-2025").exists():
        return
    assess(
        tree, small_set("T-2021-2025"), 2024, {"c1": RESULTS_2024["c1"], "c2": RESULTS_2024["c2"]}
    )
