import copy
import json
import pickle
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.translations import english
from tiendo.programmes.models import Target
from tiendo.programmes.periods import Period, PeriodError, PeriodType


@pytest.mark.parametrize(
    ("identifier", "kind", "start", "end", "label"),
    [
        ("2020", PeriodType.YEAR, date(2020, 1, 1), date(2020, 12, 31), "năm 2020"),
        ("2020S1", PeriodType.HALF, date(2020, 1, 1), date(2020, 6, 30), "6 tháng đầu năm 2020"),
        ("2020S2", PeriodType.HALF, date(2020, 7, 1), date(2020, 12, 31), "6 tháng cuối năm 2020"),
        ("2020Q3", PeriodType.QUARTER, date(2020, 7, 1), date(2020, 9, 30), "quý III/2020"),
        ("202002", PeriodType.MONTH, date(2020, 2, 1), date(2020, 2, 29), "tháng 2/2020"),
        (
            "2020-10-31",
            PeriodType.DATE,
            date(2020, 10, 31),
            date(2020, 10, 31),
            "đến ngày 31/10/2020",
        ),
        (
            "2021-2025",
            PeriodType.PHASE,
            date(2021, 1, 1),
            date(2025, 12, 31),
            "giai đoạn 2021-2025",
        ),
        (" 2020q3 ", PeriodType.QUARTER, date(2020, 7, 1), date(2020, 9, 30), "quý III/2020"),
    ],
)
def test_identifiers_parse_to_ranges_and_vietnamese_labels(identifier, kind, start, end, label):
    period = Period.parse(identifier)
    assert (period.type, period.start, period.end, period.label) == (kind, start, end, label)


def test_a_month_lies_in_its_quarter_half_year_year_and_phase():
    month = Period.parse("202010")
    for outer in ("2020Q4", "2020S2", "2020", "2016-2020", "2020-2020"[:4]):
        assert month in Period.parse(outer)
    assert month not in Period.parse("2020Q3")
    assert Period.parse("2020-10-31") in Period.parse("202010")


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("", "period.invalid"),
        ("20", "period.invalid"),
        ("2020Q5", "period.invalid"),
        ("202013", "period.no_such_month"),
        ("2020-02-30", "period.no_such_day"),
        ("2025-2021", "period.phase_reversed"),
        ("năm 2020", "period.not_ascii"),
        ("2020S3", "period.invalid"),
        ("1800", "period.year_out_of_range"),
    ],
)
def test_bad_identifiers_get_a_vietnamese_message(bad, code):
    with pytest.raises(PeriodError) as caught:
        Period.parse(bad)
    assert caught.value.code == code
    assert str(caught.value).startswith("Kỳ báo cáo")


def test_previous_periods():
    assert Period.parse("2022").previous().id == "2021"
    assert Period.parse("2021Q1").previous().id == "2020Q4"
    assert Period.parse("2021S1").previous().id == "2020S2"
    assert Period.parse("202101").previous().id == "202012"
    assert Period.parse("2021-2025").previous().id == "2016-2020"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("٢٠٢٢", "2022"),  # Arabic-Indic
        ("۲۰۲۲", "2022"),  # Extended Arabic-Indic (Persian)
        ("２０２２", "2022"),  # full-width
        ("२०२२", "2022"),  # Devanagari
        ("２０２０Ｑ３", "2020Q3"),
        ("２０２０ｓ１", "2020S1"),
        ("2021–2025", "2021-2025"),  # en dash
        ("２０２１－２０２５", "2021-2025"),
        ("٢٠٢٠-١٠-٣١", "2020-10-31"),
        ("\u00a02022\u3000", "2022"),
    ],
)
def test_look_alike_digits_name_the_same_period_with_its_ascii_id(typed, canonical):
    period = Period.parse(typed)
    assert period.id == canonical
    assert period == Period.parse(canonical)


@pytest.mark.parametrize(
    "typed",
    ["2022\u200b", "20²²", "2020\u017f1", "２０２０Ⅲ", "2020Q٣x", "2022\x00", "2022\n2023"],
)
def test_anything_else_that_is_not_an_ascii_period_is_refused_in_vietnamese(typed):
    with pytest.raises(PeriodError) as caught:
        Period.parse(typed)
    assert caught.value.code in ("period.not_ascii", "period.invalid")
    assert str(caught.value).startswith("Kỳ báo cáo")


def test_a_very_long_identifier_is_refused_without_quoting_it_whole():
    with pytest.raises(PeriodError) as caught:
        Period.parse("2" * 1_000_000)
    assert caught.value.code == "period.too_long"
    assert len(str(caught.value)) < 200


@given(st.text(max_size=30))
def test_any_text_either_parses_to_an_ascii_id_or_raises_period_error(text):
    try:
        period = Period.parse(text)
    except PeriodError:
        return
    assert period.id.isascii()
    assert Period.parse(period.id) == period


# -- a period stands where its id stood ------------------------------------------------------


def test_a_period_is_the_string_of_its_id_for_equality_keys_json_and_text():
    period, plain = Period.parse("2020Q3"), "2020Q3"
    assert period == plain and plain == period and period != "2020Q4"
    assert {"2020Q3": 1}[period] == 1 and {period: 1}["2020Q3"] == 1
    assert json.dumps({period: [period]}) == '{"2020Q3": ["2020Q3"]}'
    assert f"{period}" == str(period) == period.id == "2020Q3"
    assert type(period.id) is str


def test_periods_sort_by_their_dates_not_their_ids():
    ids = ["2021", "202010", "2020Q3", "2020-10-31", "2020"]
    assert [p.id for p in sorted(map(Period.parse, ids))] == [
        "2020",
        "2020Q3",
        "202010",
        "2020-10-31",
        "2021",
    ]
    assert Period.parse("2020Q4") > Period.parse("2020Q3")


def test_a_period_is_immutable_and_survives_pickling_and_copies():
    period = Period.parse("2021-2025")
    with pytest.raises(AttributeError):
        period.start = date(2000, 1, 1)
    assert pickle.loads(pickle.dumps(period)).end == date(2025, 12, 31)
    assert copy.deepcopy(period).type is PeriodType.PHASE
    assert Period.parse(period) is period


def test_a_period_field_reads_and_assigns_periods_and_stores_the_id(tree):
    unit_target = Target.objects.create(
        indicator=factories.indicator(factories.programme(), "HH"),
        unit=tree.c1,
        period="２０２２",
        value=5,
    )
    assert isinstance(unit_target.period, Period) and unit_target.period.label == "năm 2022"
    stored = Target.objects.get(period=Period.parse("2022"))
    assert isinstance(stored.period, Period) and stored.period.end == date(2022, 12, 31)
    assert Target.objects.filter(period="2022").count() == 1
    assert Target.objects.filter(period__startswith="20").count() == 1
    assert list(Target.objects.values_list("period", flat=True)) == ["2022"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT period FROM programmes_target")
        assert cursor.fetchone() == ("2022",)


def test_a_period_field_refuses_an_unreadable_period_on_validation(tree):
    field = Target._meta.get_field("period")
    assert field.to_python("2020q3") == Period.parse("2020Q3")
    with pytest.raises(ValidationError) as caught:
        field.to_python("2020Q5")
    assert caught.value.code == "period.invalid"


ENGLISH_PERIOD_NAMES = {
    "năm %(year)s": "year %(year)s",
    "6 tháng đầu năm %(year)s": "first half of %(year)s",
    "6 tháng cuối năm %(year)s": "second half of %(year)s",
    "quý %(quarter)s/%(year)s": "quarter %(quarter)s of %(year)s",
    "tháng %(month)s/%(year)s": "month %(month)s of %(year)s",
    "đến ngày %(day)s": "as of %(day)s",
    "giai đoạn %(start)s-%(end)s": "phase %(start)s-%(end)s",
}


@pytest.fixture
def english_period_names():
    with english(ENGLISH_PERIOD_NAMES):
        yield


def test_period_names_are_translated_with_their_parameters(english_period_names):
    ids = ["2020", "2020S1", "2020S2", "2020Q3", "202010", "2020-10-31", "2021-2025"]
    with translation.override("en"):
        english = [Period.parse(i).label for i in ids]
    with translation.override("vi"):
        vietnamese = [Period.parse(i).label for i in ids]
    assert english == [
        "year 2020",
        "first half of 2020",
        "second half of 2020",
        "quarter III of 2020",
        "month 10 of 2020",
        "as of 31/10/2020",
        "phase 2021-2025",
    ]
    assert vietnamese == [
        "năm 2020",
        "6 tháng đầu năm 2020",
        "6 tháng cuối năm 2020",
        "quý III/2020",
        "tháng 10/2020",
        "đến ngày 31/10/2020",
        "giai đoạn 2021-2025",
    ]
