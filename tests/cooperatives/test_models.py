"""The register's records: tax codes, the 36 months of an OCOP recognition, one producer."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tiendo.cooperatives.models import (
    Cooperative,
    OcopProduct,
    add_months,
    normalise_tax_code,
    validate_tax_code,
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0101234567", "0101234567"),
        (" 0101234567-001 ", "0101234567-001"),
        ("0101234567001", "0101234567-001"),
        ("0101 234 567", "0101234567"),
        ("０１０１２３４５６７", "0101234567"),
    ],
)
def test_a_tax_code_is_stored_in_its_10_or_10_3_form(typed, stored):
    code = normalise_tax_code(typed)
    assert code == stored
    validate_tax_code(code)


@pytest.mark.parametrize(
    "typed", ["12345", "01012345678", "0101234567-01", "MST0101234", "đ101234567"]
)
def test_a_tax_code_of_another_shape_is_refused(typed):
    with pytest.raises(ValidationError) as err:
        validate_tax_code(normalise_tax_code(typed))
    assert "Mã số thuế" in err.value.messages[0]


def test_months_are_added_to_the_last_day_of_a_short_month():
    assert add_months(date(2021, 10, 20), 36) == date(2024, 10, 20)
    assert add_months(date(2020, 2, 29), 36) == date(2023, 2, 28)
    assert add_months(date(2021, 12, 31), 2) == date(2022, 2, 28)


def test_a_recognition_lasts_36_months_from_its_decision(db, product):
    assert product.expires_on == date(2024, 10, 20)
    assert product.last_valid_day == date(2024, 10, 19)
    assert not product.valid_on(date(2021, 10, 19))
    assert product.valid_on(date(2021, 10, 20))
    assert product.valid_on(date(2024, 10, 19))
    assert not product.valid_on(date(2024, 10, 20))
    valid = OcopProduct.objects.valid_on
    assert list(valid(date(2024, 10, 19))) == [product]
    assert not valid(date(2024, 10, 20)).exists()
    assert not valid(date(2021, 10, 19)).exists()


def test_a_product_has_exactly_one_producer_in_the_database_too(db, tree, coop, product):
    product.enterprise = "Công ty Cam Hà Giang"
    with pytest.raises(ValidationError):
        product.full_clean()
    with transaction.atomic(), pytest.raises(IntegrityError):
        OcopProduct.objects.filter(pk=product.pk).update(enterprise="Công ty Cam Hà Giang")


def test_the_producer_kind_follows_the_producer(db, tree, coop, product):
    assert product.producer_kind == "cooperative"
    product.cooperative = None
    product.enterprise = "Công ty Cam Hà Giang"
    product.save()
    product.refresh_from_db()
    assert product.producer_kind == "enterprise"
    assert product.producer_name == "Công ty Cam Hà Giang"


def test_a_score_outside_the_band_of_its_stars_is_refused(db, product):
    product.score = Decimal("72")
    with pytest.raises(ValidationError) as err:
        product.full_clean()
    assert "3 sao" in err.value.message_dict["score"][0]
    product.stars = 4
    product.full_clean()


def test_two_cooperatives_may_not_share_a_tax_code_but_may_both_have_none(db, tree, coop):
    Cooperative.objects.create(name="THT Hai", unit=tree.c2, founded_on=date(2020, 1, 1))
    Cooperative.objects.create(name="THT Ba", unit=tree.c2, founded_on=date(2020, 1, 1))
    with transaction.atomic(), pytest.raises(IntegrityError):
        Cooperative.objects.create(
            name="HTX trùng mã", unit=tree.c2, founded_on=date(2020, 1, 1), tax_code=coop.tax_code
        )


def test_obstacles_are_named_in_vietnamese(db, coop):
    assert coop.obstacles == ["Không có tài sản thế chấp"]
    assert list(Cooperative.objects.unable_to_borrow()) == [coop]
