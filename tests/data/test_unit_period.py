"""A value is entered for a unit that existed during the period: the one rule of
``Unit.objects.valid_during`` (also behind the entry screen's unit list, validation and
the Excel sheets), for a unit that ended or began in the middle of the period."""

from datetime import date

import pytest

from tests.factories import D, indicator, programme, unit
from tiendo.data.models import DataValue
from tiendo.data.services import DataEntryError, Entry, check_entry, save_value
from tiendo.programmes.periods import Period
from tiendo.units.models import Level, Unit, UnitKind


@pytest.fixture
def households(db):
    return indicator(programme(), "HH")


def refusal(ind, who, period):
    """The code of the refusal of a value for ``who`` in ``period``, or None if accepted."""
    try:
        check_entry(Entry(ind, who, period, D(1)))
    except DataEntryError as exc:
        return exc.code
    return None


def test_a_unit_that_ended_mid_period_takes_that_periods_values(tree, households):
    # Hà Giang's Xã Một ended on 30/06/2025: it answers for 2025, its first half and its
    # second quarter, not for the second half or a month after it ended.
    for period in ["2025", "2025S1", "2025Q2", "2021-2025"]:
        assert refusal(households, tree.c1, period) is None, period
    for period in ["2025S2", "2025Q3", "202507", "2026"]:
        assert refusal(households, tree.c1, period) == "data.unit_not_valid", period
    save_value(Entry(households, tree.c1, "2025", D(3)))
    assert DataValue.objects.get(unit=tree.c1).value == 3


def test_a_unit_that_began_mid_period_takes_that_periods_values(tree, households):
    for period in ["2025", "2025S2", "2025Q3", "2021-2025"]:
        assert refusal(households, tree.n1, period) is None, period
    for period in ["2025S1", "2025Q2", "202506", "2024"]:
        assert refusal(households, tree.n1, period) == "data.unit_not_valid", period


def test_a_unit_that_began_and_ended_inside_the_period_takes_its_values(tree, households):
    # Neither the first nor the last day of the phase: it existed during it all the same,
    # as the unit lists of the entry screen and of validation say.
    brief = unit(
        "30001",
        "Xã Tạm",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.vi_xuyen,
        valid_from=date(2022, 1, 1),
        valid_to=date(2023, 12, 31),
    )
    assert refusal(households, brief, "2021-2025") is None
    assert refusal(households, brief, "2022") is None
    assert refusal(households, brief, "2024") == "data.unit_not_valid"
    assert refusal(households, brief, "2021") == "data.unit_not_valid"


@pytest.mark.parametrize(
    "period", ["2021", "2021-2025", "2025", "2025S1", "2025S2", "202506", "202507", "2026"]
)
def test_the_unit_in_hand_and_the_query_agree(tree, period):
    parsed = Period.parse(period)
    queried = set(Unit.objects.valid_during(parsed).values_list("pk", flat=True))
    in_hand = {u.pk for u in Unit.objects.all() if u.is_valid_during(parsed)}
    assert in_hand == queried
    assert queried  # the tree has units in every one of these periods
