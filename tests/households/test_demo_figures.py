"""The demo's household figures come from its register and are seed 000's, to the digit."""

import io
import json

import pytest
from django.core.management import call_command

from tiendo.data.models import DataValue, DataValueChange
from tiendo.demo.register import seed_totals
from tiendo.households.models import Household, RegisterIndicator

pytestmark = pytest.mark.slow

# seed 000 (shared/seeds/FIGURES.md) as the province's pivot shows it
SEED = {
    "2021": {
        "HG_HOUSEHOLDS_IMPLEMENTING": "2.050",
        "HG_HOUSEHOLDS_BENEFITING": "1.103",
        "NQ04_DISBURSED": "7.512",
        "NQ04_LOAN_HOUSEHOLDS": "71",
        "NQ04_LOAN_AREA": "121,4",
        "NQ04_STABLE_JOBS": "141",
        "NQ05_DISBURSED": "30.355",
        "NQ05_DISBURSED_HOUSEHOLDS": "1.032",
        "NQ05_AREA": "98,6",
        "NQ05_GARDENS": "804",
        "NQ05_GARDEN_INCOME": "13.100",
        "NQ05_STABLE_JOBS": "960",
    },
    "2022": {
        "NQ04_DISBURSED": "9.774",
        "NQ05_DISBURSED": "36.637",
        "NQ05_DISBURSED_HOUSEHOLDS": "1.242",
    },
    "2021-2025": {
        "HG_HOUSEHOLDS_IMPLEMENTING": "4.757",
        "HG_HOUSEHOLDS_BENEFITING": "2.441",
        "NQ04_DISBURSED": "17.286",
        "NQ04_DISBURSEMENT_RATE": "98,45",
        "NQ04_LOAN_HOUSEHOLDS": "167",
        "NQ04_LOAN_AREA": "292,9",
        "NQ04_INCOME_BEFORE_PER_HA": "18",
        "NQ04_INCOME_PER_HA": "82",
        "NQ04_NET_INCOME_PER_HA": "39,7",
        "NQ04_INCOME_MULTIPLE": "2,2",
        "NQ04_STABLE_JOBS": "334",
        "NQ04_OCOP_PRODUCTS": "4",
        "NQ05_DISBURSED": "66.992",
        "NQ05_DISBURSED_HOUSEHOLDS": "2.274",
        "NQ05_AREA": "234,9",
        "NQ05_TARGET_GROUP_HOUSEHOLDS": "2.326",
        "NQ05_TARGET_GROUP_AREA": "2,6",
        "NQ05_GARDENS": "1.935",
        "NQ05_GARDEN_INCOME": "36.362",
        "NQ05_AVERAGE_INCOME": "18,8",
        "NQ05_STABLE_JOBS": "2.274",
    },
}


def pivot(period) -> dict:
    out = io.StringIO()
    call_command("pivot", "--unit", "02", "--period", period, "--format", "json", stdout=out)
    return {row["code"]: row["value_text"] for row in json.loads(out.getvalue())["rows"]}


@pytest.mark.parametrize("period", list(SEED))
def test_the_province_pivot_gives_seed_000s_household_figures(demo_db, period):
    rows = pivot(period)
    assert {code: rows.get(code) for code in SEED[period]} == SEED[period]


def test_the_household_figures_are_computed_from_the_register_not_typed(demo_db):
    bound = set(RegisterIndicator.objects.values_list("indicator__code", flat=True))
    # the household register's figures, and the OCOP products of the cooperative register
    assert {code for code, _period in seed_totals()} | {"NQ04_OCOP_PRODUCTS"} == bound
    assert DataValue.objects.filter(indicator__code__in=bound).exists()
    written = DataValueChange.objects.filter(indicator__code__in=bound)
    assert set(written.values_list("source", flat=True)) == {"register"}
    assert 4900 <= Household.objects.filter(illustrative=True).count() <= 5100
    assert not Household.objects.filter(illustrative=False).exists()
    # a figure and the households behind it: the province's borrowers of Resolution 04
    assert (
        Household.objects.filter(loans__programme__code="HG-NQ04", removed_at__isnull=True)
        .distinct()
        .count()
        == 167
    )
    from tiendo.cooperatives.models import OcopProduct

    products = OcopProduct.objects.filter(programme__code="HG-NQ04", stars__gte=3)
    assert products.count() == 4 and all(p.illustrative for p in products)


def test_every_id_number_is_a_well_formed_ha_giang_number(demo_db):
    from tiendo.households import identity

    for h in Household.objects.order_by("pk")[:300]:
        number = h.head_id()
        assert number.startswith("002")
        assert identity.check(number, birth_year=h.head_birth_year, sex=h.head_sex)[1] == []


def test_every_demo_record_has_its_registration_in_its_history(demo_db):
    from tiendo.households.models import Enrolment, Loan, Plot, RecordChange

    added = RecordChange.objects.filter(field="*", old="", source="demo")
    assert added.filter(record="household").count() == Household.objects.count()
    for record, model in (("enrolment", Enrolment), ("loan", Loan), ("plot", Plot)):
        assert added.filter(record=record).count() == model.objects.count(), record
