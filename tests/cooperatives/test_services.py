"""Every write checks scope and version, keeps who/when/old/new, and tells the register's
figures which units changed — inside the transaction, so a failing hook saves nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.cooperatives.conftest import cooperative_data, product_data
from tiendo.cooperatives import figures, services
from tiendo.cooperatives.models import Change, Cooperative, OcopProduct
from tiendo.households import events
from tiendo.households.sources import get_source


@pytest.fixture
def heard(monkeypatch):
    """The units every register write announced, in order."""
    calls = []
    monkeypatch.setattr(events, "_HOOKS", [lambda ids, **kw: calls.append((ids, kw["source"]))])
    return calls


def test_creating_a_cooperative_announces_its_unit_and_keeps_who_added_it(tree, people, heard):
    record = services.create_cooperative(people["officer"], cooperative_data(tree.c1))
    assert heard == [({tree.c1.pk}, "form")]
    change = Change.objects.get(cooperative=record)
    assert (change.field, change.old, change.new) == ("*", "", "HTX Cam sành Một")
    assert change.changed_by == people["officer"]
    assert record.version == 1


def test_an_edit_keeps_old_and_new_values_and_raises_the_version(tree, people, coop, heard):
    changes = services.update_cooperative(
        people["officer"],
        coop.pk,
        {"members": 20, "no_office": True, "sector": "trade"},
        expected_version=1,
    )
    assert {c[0] for c in changes} == {"members", "no_office", "sector"}
    coop.refresh_from_db()
    assert coop.version == 2
    rows = {c.field: (c.old, c.new) for c in coop.changes.exclude(field="*")}
    assert rows == {
        "members": ("12", "20"),
        "no_office": ("không", "có"),
        "sector": ("Nông nghiệp", "Thương mại, dịch vụ"),
    }
    assert heard == [({tree.c1.pk}, "form")]


def test_a_stale_form_never_overwrites_a_newer_save(tree, people, coop):
    services.update_cooperative(people["officer"], coop.pk, {"members": 20}, expected_version=1)
    with pytest.raises(services.StaleVersion) as err:
        services.update_cooperative(
            people["district"], coop.pk, {"members": 99}, expected_version=1
        )
    assert "phiên bản 2" in str(err.value)
    coop.refresh_from_db()
    assert coop.members == 20


def test_nothing_changed_spends_no_version_and_writes_no_history(tree, people, coop, heard):
    assert (
        services.update_cooperative(people["officer"], coop.pk, {"members": 12}, expected_version=1)
        == []
    )
    coop.refresh_from_db()
    assert coop.version == 1
    assert heard == []


def test_moving_a_cooperative_recomputes_both_units(tree, people, coop, heard):
    services.update_cooperative(people["district"], coop.pk, {"unit": tree.c2}, expected_version=1)
    assert heard == [({tree.c1.pk, tree.c2.pk}, "form")]


def test_no_one_writes_outside_their_scope_nor_as_a_leader(tree, people, coop):
    for who in ("leader", "other_commune", "stranger"):
        with pytest.raises(PermissionDenied):
            services.update_cooperative(people[who], coop.pk, {"members": 1}, expected_version=1)
    with pytest.raises(PermissionDenied):
        services.create_cooperative(people["officer"], cooperative_data(tree.c3, tax_code=""))
    with pytest.raises(PermissionDenied):  # moving it out of one's own scope
        services.update_cooperative(
            people["officer"], coop.pk, {"unit": tree.c3}, expected_version=1
        )


def test_a_hook_that_fails_rolls_the_whole_save_back(tree, people, coop, monkeypatch):
    def broken(ids, **kw):
        raise RuntimeError("figure engine down")

    monkeypatch.setattr(events, "_HOOKS", [broken])
    with pytest.raises(RuntimeError):
        services.update_cooperative(people["officer"], coop.pk, {"members": 3}, expected_version=1)
    with pytest.raises(RuntimeError):
        services.create_product(people["officer"], product_data(tree.c1, coop))
    coop.refresh_from_db()
    assert (coop.members, coop.version, coop.changes.count()) == (12, 1, 1)
    assert not OcopProduct.objects.exists()


def test_an_invalid_record_is_refused_with_a_message_naming_it(tree, people):
    with pytest.raises(services.InvalidRecord) as err:
        services.create_cooperative(people["officer"], cooperative_data(tree.c1, tax_code="12-ab"))
    assert "tax_code" in err.value.errors
    assert not Cooperative.objects.exists()


def test_supports_are_added_and_removed_with_history(tree, people, coop, heard):
    support = services.add_support(
        people["officer"],
        coop,
        {
            "given_on": date(2020, 11, 16),
            "giver": "Liên minh Hợp tác xã Việt Nam",
            "kind": "equipment",
            "amount": Decimal(500),
        },
    )
    services.remove_support(people["officer"], support)
    rows = list(coop.changes.filter(record="support").order_by("pk").values_list("old", "new"))
    assert rows == [
        ("", "Liên minh Hợp tác xã Việt Nam: 500 triệu đồng"),
        ("Liên minh Hợp tác xã Việt Nam: 500 triệu đồng", ""),
    ]
    assert heard == [({tree.c1.pk}, "form")] * 2
    assert not coop.supports.exists()


def test_a_product_edit_recomputes_its_expiry(tree, people, product):
    services.update_product(
        people["officer"],
        product.pk,
        {"decision_date": date(2022, 1, 31)},
        expected_version=1,
    )
    product.refresh_from_db()
    assert product.expires_on == date(2025, 1, 31)
    assert product.changes.get(field="decision_date").old == "20/10/2021"


def test_the_register_offers_its_two_sources():
    coop_source, ocop = get_source("cooperative"), get_source("ocop_product")
    assert (coop_source.unit, coop_source.date) == ("unit", "founded_on")
    assert {"kind", "sector", "no_collateral", "no_office"} <= set(coop_source.fields)
    assert (ocop.unit, ocop.date) == ("unit", "decision_date")
    assert {"stars", "group", "producer_kind", "programme"} <= set(ocop.fields)


def test_the_ocop_source_keeps_what_is_valid_on_a_day(tree, people, product):
    source = get_source("ocop_product")
    assert list(source.valid_on(source.records(), date(2022, 12, 31))) == [product]
    assert not source.valid_on(source.records(), date(2024, 12, 31)).exists()


def test_figures_count_products_by_stars_valid_on_a_day_in_a_subtree(tree, people, coop, product):
    services.create_product(
        people["officer"],
        product_data(tree.c1, coop, name="Nước cam", group="drink", stars=4, score=Decimal(80)),
    )
    services.create_product(
        people["officer"],
        product_data(tree.c1, coop, name="Mứt cam", stars=2, score=Decimal(40)),
    )
    day = date(2022, 12, 31)
    assert figures.ocop_product_count(tree.ha_giang, day) == 2
    assert figures.ocop_product_count(tree.vi_xuyen, day, min_stars=4) == 1
    assert figures.ocop_product_count(tree.bac_quang, day) == 0
    assert figures.ocop_product_count(tree.ha_giang, date(2025, 1, 1)) == 0
    assert figures.ocop_products_by_stars(tree.ha_giang, day) == {3: 1, 4: 1, 5: 0}


def test_figures_count_cooperatives_that_could_not_borrow_by_reason(tree, people, coop):
    services.create_cooperative(
        people["coordinator"],
        cooperative_data(tree.c3, name="HTX Ba", tax_code="", no_collateral=True, no_office=True),
    )
    services.create_cooperative(
        people["coordinator"], cooperative_data(tree.c4, name="HTX Bốn", tax_code="")
    )
    counts = figures.cooperatives_unable_to_borrow(tree.ha_giang)
    assert counts == {
        "total": 2,
        "no_collateral": 2,
        "no_office": 1,
        "not_compliant": 0,
        "other_obstacle": 0,
    }
    assert figures.cooperatives_unable_to_borrow(tree.bac_quang)["total"] == 1
    assert figures.cooperatives_unable_to_borrow(tree.ha_giang, date(2018, 1, 1))["total"] == 0
