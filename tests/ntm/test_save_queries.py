"""One commune's assessment saved: the queries it costs, pinned (``bench/ntm.py`` times it
at national scale). The figures it moves are written in one batch by the data service:
35 queries here, 78 when each figure was written alone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.ntm.test_figures import ALL, TWO, _assess, _set
from tiendo.data.aggregation import Aggregator
from tiendo.ntm import figures
from tiendo.programmes.models import Indicator

pytestmark = pytest.mark.django_db


def test_saving_an_assessment_that_moves_band_costs_a_fixed_number_of_queries(tree):
    cs = _set()
    _assess(cs, tree.c1, 2022, ALL)
    _assess(cs, tree.c2, 2022, ALL)
    with CaptureQueriesContext(connection) as queries:
        _assess(cs, tree.c1, 2022, TWO)  # five figures move, and their rollups
    assert len(queries.captured_queries) == 35
    band = Indicator.objects.select_related("disaggregation").get(
        code=figures.indicator_code(cs, "BAND")
    )
    bands = Aggregator([band], "2022").for_unit(tree.ha_giang)[band.code].categories
    assert {k: v for k, v in bands.items() if v} == {"B1": 1, "B2": 1}
