"""With Quảng Trị's unit history loaded (as ``make demo`` does before the demo), every xã
of each year 2016–2020 is assessed, as the tree was that year."""

import pytest

from tests.demo.test_ntm_demo import assessed_as_the_tree_allows
from tiendo.demo import ntm
from tiendo.ntm.models import Assessment
from tiendo.units.models import Unit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def with_history(demo, django_db_blocker):
    """The history loaded on this module's copy of the demo, then the demo's NTM part run
    again: the figures already there stay inside their communes' validity."""
    with django_db_blocker.unblock():
        ntm.load_history()
        ntm.load_demo_ntm()


def test_every_commune_of_each_year_is_assessed(with_history, demo_db):
    assert ntm.history_loaded()
    for year in range(2016, 2021):
        assessed_as_the_tree_allows(year, set())
    counts = [Assessment.objects.filter(year=y).count() for y in (2019, 2020)]
    assert counts == [117, 101]  # the xã of 141 and 125 units at commune level


def test_a_commune_merged_in_2020_is_assessed_until_2019(with_history, demo_db):
    hai_tho = Unit.objects.get(name="Xã Hải Thọ")
    assert sorted(hai_tho.ntm_assessments.values_list("year", flat=True)) == [
        2016,
        2017,
        2018,
        2019,
    ]
    assert not Assessment.objects.filter(illustrative=False).exists()


def test_running_it_again_changes_nothing(with_history, demo_db):
    before = Assessment.objects.order_by("pk").values_list("pk", "version")
    ntm.load_demo_ntm()
    assert list(Assessment.objects.order_by("pk").values_list("pk", "version")) == list(before)
