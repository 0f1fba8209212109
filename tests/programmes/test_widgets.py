"""The period picker: periods in Vietnamese words, the ASCII id as the value."""

from datetime import date

import pytest
from django import forms
from django.utils import translation

from tiendo.programmes.periods import Period, PeriodType
from tiendo.programmes.widgets import (
    PeriodChoiceField,
    PeriodPicker,
    periods_between,
)


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("2025", "Năm 2025"),
        ("2025S1", "6 tháng đầu năm 2025"),
        ("2025S2", "6 tháng cuối năm 2025"),
        ("2025Q3", "Quý III năm 2025"),
        ("202510", "Tháng 10 năm 2025"),
        ("2025-10-31", "Đến ngày 31/10/2025"),
        ("2021-2025", "Giai đoạn 2021–2025"),
    ],
)
def test_every_kind_of_period_has_a_vietnamese_name(identifier, name):
    with translation.override("vi"):
        assert Period.parse(identifier).title == name


def test_periods_between_lists_each_type_over_the_years_in_calendar_order():
    found = periods_between([PeriodType.QUARTER, PeriodType.YEAR], 2024, 2025)
    assert [p.id for p in found][:6] == ["2024", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025"]
    assert len(found) == 10
    phases = periods_between([PeriodType.PHASE], 2019, 2026)
    assert [p.id for p in phases] == ["2016-2020", "2021-2025", "2026-2030"]


def test_the_picker_offers_a_range_around_today_grouped_by_year_newest_first():
    picker = PeriodPicker(period_types=["year", "quarter"], years=(2023, 2025))
    with translation.override("vi"):
        html = picker.render("period", "2025Q3")
    assert html.index('label="Năm 2025"') < html.index('label="Năm 2023"')
    assert '<option value="2025Q3" selected>Quý III năm 2025</option>' in html
    assert '<option value="2024">Năm 2024</option>' in html
    assert '<option value="">— chọn kỳ báo cáo —</option>' in html
    assert "2022" not in html
    assert "2025Q3<" not in html  # the code is the value, never the text shown


def test_the_default_range_is_around_today():
    picker = PeriodPicker()
    this_year = date.today().year
    ids = [p.id for p in picker.offered()]
    assert str(this_year) in ids and str(this_year - 5) in ids and str(this_year + 1) in ids
    assert str(this_year - 6) not in ids and str(this_year + 2) not in ids


def test_a_period_outside_the_list_stays_selected_and_a_bad_value_selects_nothing():
    picker = PeriodPicker(periods=["2024", "2025"])
    with translation.override("vi"):
        html = picker.render("period", "2019S1")
        assert '<option value="2019S1" selected>6 tháng đầu năm 2019</option>' in html
        assert " selected" not in picker.render("period", "2024Q9")


class LetterForm(forms.Form):
    period = PeriodChoiceField(period_types=["quarter"], years=(2025, 2025))


def test_the_field_cleans_to_a_period_of_the_accepted_type():
    form = LetterForm({"period": "2025Q3"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["period"] == Period.parse("2025Q3")
    assert form.cleaned_data["period"].type is PeriodType.QUARTER


@pytest.mark.parametrize(
    ("value", "code"), [("2025", "period.wrong_type"), ("2025Q5", "period.invalid")]
)
def test_the_field_refuses_another_type_or_a_bad_id_with_its_code(value, code):
    form = LetterForm({"period": value})
    assert not form.is_valid()
    assert form.errors.as_data()["period"][0].code == code


def test_the_field_renders_the_picker_with_the_bound_value():
    with translation.override("vi"):
        html = str(LetterForm({"period": "2025Q2"})["period"])
    assert '<option value="2025Q2" selected>Quý II năm 2025</option>' in html
    assert 'value="2025Q4"' in html
