"""The engine's figures: indicators of the set's programme, written on every save, read
back through the aggregation — history-true and in today's tree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.pivot import format_cell
from tiendo.data.services import DataEntryError, Entry, save_value
from tiendo.ntm import figures
from tiendo.ntm.models import Criterion
from tiendo.ntm.services import (
    AssessmentInput,
    record_recognition,
    save_assessments,
    set_loaded,
    withdraw_recognition,
)
from tiendo.programmes.models import Indicator

pytestmark = pytest.mark.django_db

D = Decimal


def _set(code="T-2021-2025", **kw):
    cs = small_set(code, **kw)
    cs.programme = factories.programme("NTM-TC-" + code, "Kết quả thực hiện " + code)
    cs.save()
    set_loaded(cs)
    return cs


def _assess(cs, unit, year, met: dict, applies_to="MN", **kw):
    return save_assessments(
        [
            AssessmentInput(
                unit=unit, criteria_set=cs, year=year, criteria=met, applies_to=applies_to, **kw
            )
        ]
    ).assessments[0]


ALL = {1: True, 2: True, 3: True}
TWO = {1: True, 2: False, 3: True}
ONE = {1: False, 2: False, 3: True}
NONE = {1: False, 2: False, 3: False}


def test_the_figures_are_indicators_of_the_set_programme_made_once(tree):
    cs = _set()
    p = figures.prefix(cs)
    assert p == "NTM_T_2021_2025"
    codes = set(Indicator.objects.filter(programme=cs.programme).values_list("code", flat=True))
    assert codes == {
        f"{p}_{w}"
        for w in (
            "ASSESSED",
            "MET_ALL",
            "MET_ALL_PCT",
            "CRITERIA",
            "CRITERIA_AVG",
            "BAND",
            "C01",
            "C02",
            "C03",
            "RECOGNISED",
            "RECOGNISED_TOTAL",
        )
    }
    assert figures.indicator_code(cs, 3) == f"{p}_C03"
    band = Indicator.objects.get(code=f"{p}_BAND")
    assert [(o.code, o.name) for o in band.disaggregation.options.all()] == [
        ("B1", "3 tiêu chí"),
        ("B2", "1–2 tiêu chí"),
        ("B3", "Dưới 1 tiêu chí"),
    ]
    pct = Indicator.objects.get(code=f"{p}_MET_ALL_PCT")
    assert pct.formula == f"{p}_MET_ALL / {p}_ASSESSED * 100"
    # idempotent; a renamed criterion renames its figure, a dropped one is retired
    before = Indicator.objects.count()
    figures.ensure_figures(cs)
    assert Indicator.objects.count() == before
    Criterion.objects.filter(criteria_set=cs, number=2).update(name="Thu nhập bình quân")
    Criterion.objects.filter(criteria_set=cs, number=3).delete()
    figures.ensure_figures(cs)
    assert Indicator.objects.count() == before
    assert "Thu nhập bình quân" in Indicator.objects.get(code=f"{p}_C02").name
    assert Indicator.objects.get(code=f"{p}_C03").retired


def test_a_set_without_a_programme_has_no_figures_and_saves_still_work(tree):
    cs = small_set()
    assert figures.ensure_figures(cs) == []
    _assess(cs, tree.c1, 2024, ALL)
    assert not DataValue.objects.exists()


def test_each_save_writes_the_commune_figures_with_history_under_source_ntm(tree):
    cs = _set()
    _assess(cs, tree.c1, 2024, TWO)
    code = lambda w: figures.indicator_code(cs, w)  # noqa: E731
    own = {
        (v.indicator.code, v.category): v.value
        for v in DataValue.objects.filter(unit=tree.c1, period="2024").select_related("indicator")
    }
    assert own == {
        (code("ASSESSED"), ""): 1,
        (code("MET_ALL"), ""): 0,
        (code("CRITERIA"), ""): 2,
        (code("BAND"), "B2"): 1,
        (code(1), ""): 1,
        (code(2), ""): 0,
        (code(3), ""): 1,
        (code("RECOGNISED"), ""): 0,
        (code("RECOGNISED_TOTAL"), ""): 0,
    }
    _assess(cs, tree.c1, 2024, {2: True})
    band = DataValue.objects.filter(unit=tree.c1, period="2024", indicator__code=code("BAND"))
    assert list(band.values_list("category", "value")) == [("B1", 1)]
    changes = DataValueChange.objects.filter(unit=tree.c1, indicator__code=code("BAND"))
    assert set(changes.values_list("source", flat=True)) == {"ntm"}
    assert changes.count() == 3  # B2 created, B2 deleted, B1 created


def test_the_figures_cannot_be_entered_by_hand(tree):
    cs = _set()
    assessed = Indicator.objects.get(code=figures.indicator_code(cs, "ASSESSED"))
    with pytest.raises(DataEntryError) as refused:
        save_value(Entry(assessed, tree.c1, "2024", D(1)))
    assert refused.value.code == "data.write_refused"
    assert "đánh giá" in str(refused.value)
    pct = Indicator.objects.get(code=figures.indicator_code(cs, "MET_ALL_PCT"))
    with pytest.raises(DataEntryError) as refused:
        save_value(Entry(pct, tree.c1, "2024", D(50)))
    assert refused.value.code == "data.computed"
    # another programme's indicator with a look-alike code is not touched
    other = factories.indicator(factories.programme("P9"), "NTM_OTHER")
    save_value(Entry(other, tree.c1, "2024", D(1)))


def test_district_and_province_figures_come_from_sums_and_formulas_over_sums(tree):
    cs = _set()
    _assess(cs, tree.c1, 2023, ONE)
    _assess(cs, tree.c2, 2023, ONE)
    _assess(cs, tree.c1, 2024, ALL)
    _assess(cs, tree.c2, 2024, TWO)
    _assess(cs, tree.c3, 2024, NONE)
    district = figures.summary(tree.vi_xuyen, cs, 2024)
    assert (district["assessed"], district["met_all"], district["met_all_pct"]) == (2, 1, 50)
    assert district["criteria_avg"] == D("2.5")
    assert district["criteria_avg_previous"] == 1
    assert district["criteria_avg_change"] == D("1.5")
    assert [b["value"] for b in district["bands"]] == [1, 1, None]
    assert [c["value"] for c in district["criteria"]] == [2, 1, 2]
    province = figures.summary(tree.ha_giang, cs, 2024)
    assert province["assessed"] == 3 and province["met_all"] == 1
    assert round(province["met_all_pct"], 2) == D("33.33")
    assert round(province["criteria_avg"], 4) == round(D(5) / 3, 4)
    assert province["criteria_avg_change"] is not None  # 2023: only Vị Xuyên assessed
    assert [b["value"] for b in province["bands"]] == [1, 1, 1]
    # the programme pages' aggregation shows the same figures in Vietnamese format
    pct = Indicator.objects.get(code=figures.indicator_code(cs, "MET_ALL_PCT"))
    cell = Aggregator([pct], "2024").for_unit(tree.ha_giang)[pct.code]
    assert format_cell(cell) == "33,33"
    # a year without assessments has no average and no change (not 0)
    empty = figures.summary(tree.bac_quang, cs, 2023)
    assert empty["assessed"] is None and empty["criteria_avg_change"] is None


def test_recognitions_and_withdrawals_feed_the_recognised_figures(tree):
    cs = _set()
    _assess(cs, tree.c1, 2023, ALL)
    _assess(cs, tree.c2, 2023, ALL)
    rec = record_recognition(
        unit=tree.c1,
        criteria_set=cs,
        year=2023,
        decision_number="12/QĐ-UBND",
        decision_date=date(2023, 12, 20),
        issuer="UBND tỉnh Hà Giang",
    )
    for year, recognised, total in ((2023, 1, 1), (2024, 0, 1), (2025, 0, 1)):
        s = figures.summary(tree.ha_giang, cs, year)
        assert (s["recognised"], s["recognised_total"]) == (recognised, total), year
    withdraw_recognition(rec, "30/QĐ-UBND", date(2024, 6, 1))
    for year, recognised, total in ((2023, 1, 1), (2024, 0, 0), (2025, 0, 0)):
        s = figures.summary(tree.ha_giang, cs, year)
        assert (s["recognised"], s["recognised_total"]) == (recognised, total), year
    with pytest.raises(Exception) as again:
        withdraw_recognition(rec, "31/QĐ-UBND", date(2024, 7, 1))
    assert again.value.code == "ntm.recognition.withdrawn"


def test_today_view_reexpresses_old_communes_in_the_merged_ones(tree):
    cs = _set()
    for unit, met in ((tree.c1, ALL), (tree.c2, TWO), (tree.c3, ONE), (tree.c4, NONE)):
        _assess(cs, unit, 2024, met)
    # 2025: the old commune Hai reports in the first half, the new commune Một in the second
    _assess(cs, tree.c2, 2025, ALL)
    _assess(cs, tree.n1, 2025, TWO)
    history = figures.summary(tree.tuyen_quang, cs, 2024)
    assert history["assessed"] is None  # Tuyên Quang had no communes in 2024
    today = figures.summary(tree.tuyen_quang, cs, 2024, on=date(2026, 1, 1))
    # Hà Giang became part of Tuyên Quang whole: its four communes count there
    assert today["assessed"] == 4 and today["met_all"] == 1
    assert today["criteria_avg"] == D("1.5") and today["flagged"] == []
    assert [b["value"] for b in today["bands"]] == [1, 2, 1]
    # Một → Mới Một, Hai and Ba → Mới Hai; Bốn is split without shares: left out, flagged
    new_two = figures.summary(tree.n2, cs, 2024, on=date(2026, 1, 1))
    assert new_two["assessed"] == 2 and new_two["criteria_avg"] == D("1.5")
    assert [u.code for u, _reason in new_two["flagged"]] == ["00004"]
    assert figures.summary(tree.n1, cs, 2024, on=date(2026, 1, 1))["met_all_pct"] == 100
    # 2025: each tree counts the communes that reported in it
    assert figures.summary(tree.tuyen_quang, cs, 2025)["assessed"] == 1
    assert figures.summary(tree.ha_giang, cs, 2025)["assessed"] == 1
    merged = figures.summary(tree.tuyen_quang, cs, 2025, on=date(2026, 1, 1))
    assert merged["assessed"] == 2 and merged["met_all"] == 1
    # change on the previous year in today's tree: 2025 avg 2,5 against 2024's 1,5
    assert merged["criteria_avg_change"] == 1


def test_a_new_set_for_the_new_communes_counts_on_its_own(tree):
    old = _set()
    new = _set("T-2026-2030", valid_from=date(2026, 1, 1), valid_to=date(2030, 12, 31))
    _assess(old, tree.c1, 2024, ALL)
    _assess(new, tree.n1, 2026, ALL)
    _assess(new, tree.n2, 2026, ONE)
    s = figures.summary(tree.tuyen_quang, new, 2026)
    assert (s["assessed"], s["met_all"], s["met_all_pct"]) == (2, 1, 50)
    assert s["criteria_avg_change"] is None  # the set has no 2025
    assert figures.summary(tree.nation, old, 2024)["assessed"] == 1
    assert figures.summary(tree.nation, new, 2026)["assessed"] == 2


def test_the_engine_writes_its_figures_past_the_guards_that_lock_what_people_enter(
    tree, monkeypatch
):
    """An approved report or a closed entry window refuses people's figures; the figures
    an assessment implies still follow it (the guards protect entry, not computation)."""
    from tiendo.data import services as data_services

    cs = _set()
    other = factories.indicator(factories.programme("P9"), "HH")
    monkeypatch.setattr(data_services, "_WRITE_GUARDS", [lambda pairs: ["khóa sổ"] * len(pairs)])
    with pytest.raises(DataEntryError) as refused:
        save_value(Entry(other, tree.c1, "2024", D(1)))
    assert "khóa sổ" in str(refused.value)
    _assess(cs, tree.c1, 2024, ALL)
    assert figures.summary(tree.vi_xuyen, cs, 2024)["met_all"] == 1
