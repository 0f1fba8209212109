from datetime import date

import pytest

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
    "bad", ["", "20", "2020Q5", "202013", "2020-02-30", "2025-2021", "năm 2020", "2020S3", "1800"]
)
def test_bad_identifiers_get_a_vietnamese_message(bad):
    with pytest.raises(PeriodError, match="Kỳ báo cáo"):
        Period.parse(bad)


def test_previous_periods():
    assert Period.parse("2022").previous().id == "2021"
    assert Period.parse("2021Q1").previous().id == "2020Q4"
    assert Period.parse("2021S1").previous().id == "2020S2"
    assert Period.parse("202101").previous().id == "202012"
    assert Period.parse("2021-2025").previous().id == "2016-2020"
