from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from tiendo.core.formatting import format_date, format_date_long, format_number, format_percent
from tiendo.env import database_from_url, env_bool


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (66992, None, "66.992"),
        (Decimal("234.9"), None, "234,9"),
        (4757, 0, "4.757"),
        (Decimal("39.69989"), 1, "39,7"),
        (Decimal("18.000"), 1, "18"),
        (Decimal("-1234567.891"), 2, "-1.234.567,89"),
        (Decimal("49.325"), 1, "49,3"),
        (None, 1, ""),
    ],
)
def test_numbers_are_written_the_vietnamese_way(value, decimals, expected):
    assert format_number(value, decimals) == expected


def test_percent_and_dates():
    assert format_percent(Decimal("98.45084")) == "98,45%"
    assert format_date(date(2020, 10, 31)) == "31/10/2020"
    assert format_date_long(date(2020, 11, 16)) == "ngày 16 tháng 11 năm 2020"
    # Decree 30/2020: a leading zero on days under 10 and on months 1 and 2
    assert format_date_long(date(2021, 2, 5)) == "ngày 05 tháng 02 năm 2021"


def test_configuration_helpers_refuse_bad_values(monkeypatch, tmp_path):
    monkeypatch.setenv("DEBUG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", True)
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme"):
        database_from_url("mysql://x/y", tmp_path)
    with pytest.raises(ImproperlyConfigured, match="no database name"):
        database_from_url("postgres://postgres@127.0.0.1:5432/", tmp_path)
    pg = database_from_url("postgres://u:p%40ss@db.local:5433/tiendo", tmp_path)
    assert (pg["HOST"], pg["PORT"], pg["NAME"], pg["PASSWORD"]) == (
        "db.local",
        "5433",
        "tiendo",
        "p@ss",
    )
    assert database_from_url("sqlite:///var/x.sqlite3", tmp_path)["NAME"] == str(
        tmp_path / "var/x.sqlite3"
    )


def test_an_absolute_sqlite_path_stays_absolute(tmp_path):
    assert (
        database_from_url("sqlite:////srv/tiendo/db.sqlite3", tmp_path)["NAME"]
        == "/srv/tiendo/db.sqlite3"
    )


def test_screens_stay_vietnamese_for_an_english_browser_until_english_is_chosen(client, db):
    page = client.get("/dang-nhap/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Đăng nhập" in page.content.decode()
    client.post("/ngon-ngu/", {"language": "en", "next": "/dang-nhap/"})
    assert "Đăng nhập" not in client.get("/dang-nhap/").content.decode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1e999999"), "1 × 10^999999"),
        (Decimal("-1e999999"), "-1 × 10^999999"),
        (Decimal("1e99999999999"), "1 × 10^99999999999"),
        (Decimal("1.2345e30"), "1,23 × 10^30"),
        (10**5000, "1 × 10^5000"),
        (Decimal("1e-999999"), "0"),
        (Decimal("1e-99999999999"), "0"),
        (Decimal("0.1234567890123456789"), "0,123456789012"),
        (Decimal("NaN"), "—"),
        (Decimal("sNaN"), "—"),
        (Decimal("Infinity"), "—"),
        (Decimal("-Infinity"), "—"),
        (float("inf"), "—"),
        (float("nan"), "—"),
        ("không phải số", "—"),
    ],
    ids=lambda v: "int-5000-digits" if isinstance(v, int) else str(v)[:20],
)
def test_huge_tiny_and_odd_numbers_are_formatted_without_raising(value, expected):
    assert format_number(value) == expected
    assert format_number(value, 2) == expected.replace("0,123456789012", "0,12")
    assert isinstance(format_percent(value), str)


@given(st.decimals(allow_nan=True, allow_infinity=True), st.none() | st.integers(-5, 40))
def test_format_number_never_raises_for_any_decimal(value, decimals):
    assert isinstance(format_number(value, decimals), str)
