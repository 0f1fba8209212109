"""The values a change of unit spans would leave outside, asked a few units at a time."""

from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tiendo.data import unit_validity
from tiendo.data.services import Entry, save_value
from tiendo.data.unit_validity import values_outside


@pytest.mark.parametrize("chunk", [1, 2, 500])
def test_values_outside_are_counted_and_listed_whatever_the_queries(tree, monkeypatch, chunk):
    monkeypatch.setattr(unit_validity, "CHUNK", chunk)
    indicator = factories.indicator(factories.programme(), "HO")
    for commune, year in ((tree.n1, "2026"), (tree.n2, "2027"), (tree.n3, "2026")):
        save_value(Entry(indicator, commune, year, Decimal(1)))
    save_value(Entry(indicator, tree.n2, "2026", Decimal(1)))
    spans = {
        tree.n1.pk: (date(2027, 1, 1), None),  # its 2026 value falls before
        tree.n2.pk: (date(2027, 1, 1), None),  # 2026 before, 2027 kept
        tree.n3.pk: (None, date(2026, 12, 31)),  # its 2026 value stays
        tree.other_commune.pk: (date(2027, 1, 1), None),  # no values
    }
    count, listed = values_outside(spans)
    assert count == 2
    assert listed == ["Xã Mới Một (10001), HO, kỳ 2026", "Xã Mới Hai (10002), HO, kỳ 2026"]
    assert values_outside({tree.n3.pk: (None, date(2026, 12, 31))}) == (0, [])
