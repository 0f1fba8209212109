"""Numbers in an uploaded workbook go through data.services.parse_number and its bounds."""

import pytest

from tests.reporting.excel_helpers import make_form, open_book, personas, save_book
from tiendo.data.models import DataValue
from tiendo.reporting.excel import build_workbook, check_workbook

SHEET = "Năm 2024"


@pytest.fixture
def form(tree):
    return make_form(tree)


@pytest.fixture
def people(tree):
    return personas(tree)


def checked(form, tree, user, cell, value):
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))
    wb[SHEET][cell] = value
    return check_workbook(save_book(wb), user=user, form=form)


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("1_000", "number.underscore", "gạch dưới"),
        ("1e5", "number.exponent", "lũy thừa"),
        ("9" * 5000, "number.too_long", "dài 5000 ký tự"),
        (1e15, "value.not_storable", "quá lớn"),
        (99999999999999.99, "value.not_storable", "chữ số có nghĩa"),
        ("99.999.999.999.999,999999", "value.not_storable", "chữ số có nghĩa"),
    ],
    ids=["underscore", "exponent", "5000-digits", "float-1e15", "float-16-digits", "20-digits"],
)
def test_a_cell_no_value_column_can_hold_is_an_error_in_the_dry_run(
    form, tree, people, value, code, message
):
    result = checked(form, tree, people["district"], "E7", value)
    assert not result.ok
    assert [(p.cell, p.code) for p in result.errors] == [("E7", code)]
    # the code says what kind of refusal; the text says which rule (why the number is none)
    assert any(p.cell == "E7" and message in p.message for p in result.errors), result.errors
    assert not DataValue.objects.exists()


def test_look_alike_digits_typed_in_a_cell_are_read_with_a_notice(form, tree, people):
    result = checked(form, tree, people["district"], "E7", "١٢٣")
    assert result.ok
    assert [(c.cell, c.new) for c in result.changes] == [("E7", 123)]
