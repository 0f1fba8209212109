"""What a typed number or period may be, and the largest value every database keeps exactly."""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import D, indicator, programme, user
from tiendo.data.models import DataValue, Rollup
from tiendo.data.services import DataEntryError, Entry, parse_number, save_value


@pytest.fixture
def prog(db):
    return programme()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("١٢٣", 123),  # Arabic-Indic digits
        ("۱۲۳", 123),  # Persian digits
        ("１２３", 123),  # full-width
        ("１．２３４，５", D("1234.5")),  # full-width dot and comma
        ("२३४,९", D("234.9")),  # Devanagari
        (" 12 ", 12),
        ("\u00a012\u202f345", 12345),  # non-breaking and narrow no-break spaces
        ("1 234 567", 1234567),
        ("+5", 5),
        ("−5", -5),  # U+2212 minus sign
        ("-1.234,5", D("-1234.5")),
        ("0,000001", D("0.000001")),
    ],
)
def test_other_digit_forms_spaces_and_a_plus_sign_are_read_as_the_ascii_number(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1_000", "number.underscore"),
        ("１_０００", "number.underscore"),
        ("1e5", "number.exponent"),
        ("1E+5", "number.exponent"),
        ("2,5e-3", "number.exponent"),
        ("NaN", "number.not_a_number"),
        ("nan", "number.not_a_number"),
        ("Infinity", "number.not_a_number"),
        ("-inf", "number.not_a_number"),
        ("sNaN", "number.not_a_number"),
        ("0x10", "number.not_a_number"),
        ("12\x00", "number.not_a_number"),
        ("1\u200b2", "number.not_a_number"),  # zero-width space
        ("²", "number.not_a_number"),  # superscripts are not decimal digits
        ("+-5", "number.not_a_number"),
        ("-", "number.not_a_number"),
        ("1,2,3", "number.not_a_number"),
    ],
)
def test_underscores_exponents_and_not_numbers_are_refused_naming_the_field(raw, code):
    with pytest.raises(DataEntryError) as caught:
        parse_number(raw, field="Số hộ")
    assert caught.value.code == code
    assert str(caught.value).startswith("Số hộ: ")


@pytest.mark.parametrize("raw", [float("inf"), float("-inf"), float("nan"), Decimal("NaN"), True])
def test_numbers_from_a_spreadsheet_that_are_not_finite_are_refused(raw):
    with pytest.raises(DataEntryError) as caught:
        parse_number(raw)
    assert caught.value.code == "number.not_a_number"


def test_a_megabyte_of_digits_is_refused_by_its_length_naming_the_field():
    with pytest.raises(DataEntryError, match="dài 1000000 ký tự") as caught:
        parse_number("9" * 1_000_000, field="Diện tích")
    assert caught.value.code == "number.too_long"
    assert str(caught.value).startswith("Diện tích: ")
    assert len(str(caught.value)) < 200


@given(st.text(max_size=60) | st.integers() | st.floats() | st.decimals())
def test_parse_number_never_raises_anything_but_a_data_entry_error(raw):
    try:
        value = parse_number(raw)
    except DataEntryError:
        return
    assert value is None or (isinstance(value, Decimal) and value.is_finite())


def test_a_period_typed_in_look_alike_digits_is_the_same_period_and_counted_once(tree, prog):
    households = indicator(prog, "HH")
    save_value(Entry(households, tree.c1, "2022", D(22)))
    save_value(Entry(households, tree.c1, "٢٠٢٢", D(22)))
    save_value(Entry(households, tree.c1, "２０２２", D(22)))
    assert list(DataValue.objects.values_list("period", "value")) == [("2022", D(22))]
    assert Rollup.objects.get(unit=tree.vi_xuyen).total == D(22)


# The extremes accepted: 14 digits before the comma, 6 after, 15 significant digits in all.
EXTREMES = [
    D("99999999999999.9"),
    D("-99999999999999.9"),
    D("99999999999999"),
    D("123456789.123456"),
    D("0.000001"),
    D("12345678901234.5"),
]


@pytest.mark.parametrize("value", EXTREMES)
def test_the_extreme_values_accepted_are_stored_and_read_back_exactly(tree, prog, value):
    area = indicator(prog, "AREA", measure_unit="ha")
    save_value(Entry(area, tree.c1, "2022", value))
    assert DataValue.objects.get().value == value
    assert Rollup.objects.get(unit=tree.vi_xuyen).total == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (D("99999999999999.999999"), "quá lớn|chữ số có nghĩa"),
        (D("100000000000000"), "quá lớn"),
        (D("-100000000000000"), "quá lớn"),
        (D("1e309"), "quá lớn"),
        (D("9999999999999.999"), "chữ số có nghĩa"),
        (D("1234567890.1234567"), "chữ số thập phân"),
        (D("0.0000001"), "chữ số thập phân"),
    ],
)
def test_values_a_database_would_round_are_refused_and_nothing_is_saved(tree, prog, value, message):
    area = indicator(prog, "AREA", measure_unit="ha")
    with pytest.raises(DataEntryError, match=message) as caught:
        save_value(Entry(area, tree.c1, "2022", value))
    assert caught.value.code == "value.not_storable"
    assert "Chỉ tiêu “AREA”" in str(caught.value)
    assert not DataValue.objects.exists()


def test_trailing_zeros_after_the_sixth_decimal_do_not_count(tree, prog):
    area = indicator(prog, "AREA", measure_unit="ha")
    save_value(Entry(area, tree.c1, "2022", D("1.500000000")))
    assert DataValue.objects.get().value == D("1.5")


def test_the_entry_form_still_loads_after_the_largest_value_is_saved(client, tree, prog):
    area = indicator(prog, "AREA", measure_unit="ha")
    officer = user("xa.mot", tree.c1)
    client.force_login(officer)
    where = {"programme": prog.code, "unit": tree.c1.pk, "period": "2022"}
    too_precise = {**where, f"v-{area.pk}-": "99.999.999.999.999,999999"}
    refused = client.post(reverse("data:entry"), too_precise).content.decode()
    assert "chữ số có nghĩa" in refused
    assert not DataValue.objects.exists()
    assert client.get(reverse("data:entry"), where).status_code == 200
    response = client.post(
        reverse("data:entry"), {**where, f"v-{area.pk}-": "99.999.999.999.999,9"}
    )
    assert response.status_code == 200
    assert DataValue.objects.get().value == D("99999999999999.9")
    page = client.get(reverse("data:entry"), where)
    assert page.status_code == 200
    assert "99.999.999.999.999,9" in page.content.decode()


def test_the_command_line_reads_a_look_alike_period_as_the_ascii_one(tree, prog):
    import json
    from io import StringIO

    from django.core.management import call_command

    households = indicator(prog, "HH")
    save_value(Entry(households, tree.c1, "2022", D(22)))
    out = StringIO()
    call_command("pivot", "--unit", "028", "--period", "٢٠٢٢", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["period"]["id"] == "2022"
    assert "22" in out.getvalue()


def test_a_look_alike_period_in_the_address_opens_and_saves_the_ascii_period(client, tree, prog):
    households = indicator(prog, "HH")
    save_value(Entry(households, tree.c1, "2022", D(22)))
    client.force_login(user("xa.mot", tree.c1))
    where = {"programme": prog.code, "unit": tree.c1.pk, "period": "２０２２"}
    html = client.get(reverse("data:entry"), where).content.decode()
    assert 'value="22"' in html
    client.post(reverse("data:entry"), {**where, f"v-{households.pk}-": "23"})
    assert list(DataValue.objects.values_list("period", "value")) == [("2022", D(23))]
    assert Rollup.objects.get(unit=tree.vi_xuyen).total == D(23)


@pytest.mark.parametrize(
    ("typed", "code", "message"),
    [
        ("120", "value.above_max", "Chỉ tiêu “Số hộ nghèo”: lớn nhất là 100."),
        ("4", "value.below_min", "Chỉ tiêu “Số hộ nghèo”: nhỏ nhất là 5."),
        ("7,5", "value.not_integer", "Chỉ tiêu “Số hộ nghèo”: phải là số nguyên (hộ)"),
    ],
)
def test_the_entry_form_refuses_what_the_indicator_does_not_accept_naming_the_field(
    client, tree, prog, typed, code, message
):
    poor = indicator(
        prog, "POOR", name="Số hộ nghèo", value_type="integer", min_value=D(5), max_value=D(100)
    )
    with pytest.raises(DataEntryError) as caught:
        save_value(Entry(poor, tree.c1, "2022", parse_number(typed)))
    assert caught.value.code == code
    client.force_login(user("xa.mot", tree.c1))
    where = {"programme": prog.code, "unit": tree.c1.pk, "period": "2022"}
    html = client.post(reverse("data:entry"), {**where, f"v-{poor.pk}-": typed}).content.decode()
    assert message in html
    assert not DataValue.objects.exists()
    assert not Rollup.objects.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,5", D("1234.5")),
        ("1234,5", D("1234.5")),
        ("1.234", 1234),  # a dot before three digits groups thousands, as Vietnamese write
        ("1.234.567", 1234567),
        ("-66.992", -66992),
        ("12,3", D("12.3")),
        (",5", D("0.5")),
        ("1.5", D("1.5")),  # one dot not before three digits: a spreadsheet's decimal mark
        ("234.9", D("234.9")),
        ("0.234", D("0.234")),  # "0." never starts a thousands group
        ("1234.567", D("1234.567")),  # a first group of four digits is not a thousands group
        ("12.3456", D("12.3456")),
    ],
)
def test_the_separators_are_read_by_the_vietnamese_rule(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1,234.5", "number.ambiguous"),  # English style: was stored as 1,2345
        ("1,234.567", "number.ambiguous"),
        ("1.23,5", "number.ambiguous"),  # the dot groups no thousands
        ("0.234,5", "number.ambiguous"),
        ("1.23.4", "number.ambiguous"),
        ("1234.567.890", "number.ambiguous"),
        ("1.234,5,6", "number.not_a_number"),
        (",", "number.not_a_number"),
    ],
)
def test_an_ambiguous_number_is_refused_naming_the_field(raw, code):
    with pytest.raises(DataEntryError) as caught:
        parse_number(raw, field="Vốn giải ngân")
    assert caught.value.code == code
    assert str(caught.value).startswith("Vốn giải ngân: ")
