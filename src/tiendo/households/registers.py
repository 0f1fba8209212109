"""This app's own registers as sources of register indicators (:mod:`tiendo.households.sources`).

``household``, ``enrolment``, ``loan`` and ``plot``; registered in the app's ``ready``.
Their figures are written on the household's residence commune — the commune it was
registered in, kept through reorganisations (the unit tree maps old communes to new ones) —
except the plots', written on the commune where the land lies. Removed households and
everything of theirs never count.

``poverty_level`` reads the household's classifications in the poverty reviews: a filter
on it keeps the records of households classified so in any year, and each record counts
once however many classifications match (:mod:`tiendo.households.figures` filters through
a subquery).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.households.sources import Source, register_source

_HOUSEHOLD_FIELDS = {
    "poverty_level": "household__poverty__level",
    "head_sex": "household__head_sex",
    "ethnicity": "household__ethnicity",
    "illustrative": "household__illustrative",
}
_PROGRAMME_FIELDS = {"programme": "programme__code", "component": "component__code"}


def register_own_sources() -> None:
    from tiendo.households.models import Enrolment, Household, Loan, Plot

    register_source(
        Source(
            key="household",
            label=_("hộ gia đình"),
            queryset=lambda: Household.objects.all(),
            unit="unit",
            date="created_at",
            household="pk",
            active=Q(removed_at__isnull=True),
            fields={
                "poverty_level": "poverty__level",
                "head_sex": "head_sex",
                "ethnicity": "ethnicity",
                "illustrative": "illustrative",
            },
        )
    )
    active = Q(household__removed_at__isnull=True)
    register_source(
        Source(
            key="enrolment",
            label=_("hộ tham gia chương trình"),
            queryset=lambda: Enrolment.objects.all(),
            unit="household__unit",
            date="enrolled_on",
            household="household",
            active=active,
            fields={**_PROGRAMME_FIELDS, "benefiting": "benefiting", **_HOUSEHOLD_FIELDS},
        )
    )
    register_source(
        Source(
            key="loan",
            label=_("khoản vay"),
            queryset=lambda: Loan.objects.all(),
            unit="household__unit",
            date="disbursed_on",
            household="household",
            active=active,
            fields={
                **_PROGRAMME_FIELDS,
                "amount": "amount",
                "interest_support": "interest_support",
                "term_months": "term_months",
                **_HOUSEHOLD_FIELDS,
            },
        )
    )
    register_source(
        Source(
            key="plot",
            label=_("thửa đất, vườn"),
            queryset=lambda: Plot.objects.all(),
            unit="land_unit",
            year="year_renovated",
            household="household",
            active=active,
            fields={
                **_PROGRAMME_FIELDS,
                "area_ha": "area_ha",
                "crop": "crop",
                "is_garden": "is_garden",
                "income_before": "income_before",
                "income_after": "income_after",
                "net_income_after": "net_income_after",
                "jobs": "jobs",
                **_HOUSEHOLD_FIELDS,
            },
        )
    )
