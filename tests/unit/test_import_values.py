"""Cell values as people type them: dates, amounts, currencies, phones, text, numbers, flags."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smbcrm.services.importing.values import (
    ValueProblem,
    detect_currency,
    parse_amount,
    parse_bool,
    parse_date,
    parse_int,
    parse_phones,
    parse_text,
)

MARCH_5 = dt.date(2024, 3, 5)

# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "value",
    [
        MARCH_5,
        dt.datetime(2024, 3, 5, 14, 30),
        45356,  # Excel serial number
        45356.75,  # serial with a time of day
        "45356",
        "2024-03-05",
        "2024/3/5",
        "2024.3.5",
        "2024年3月5日",
        "2024 年 3 月 5 日",
        "20240305",
        20240305,
        "２０２４－０３－０５",  # full-width
        "  2024-03-05  ",
        "2024-03-05 14:30:00",
        "2024-03-05T14:30",
        "2024年3月5日 下午2:30",
        "3/5/2024",  # month first by default
        "3/5/24",
        "5 Mar 2024",
        "05-Mar-2024",
        "March 5, 2024",
    ],
)
def test_dates_as_people_write_them(value: object) -> None:
    assert parse_date(value) == MARCH_5


@pytest.mark.parametrize("value", ["05.03.2024", "5/3/2024", "05-03-2024", "5.3.24"])
def test_day_first_setting_decides_ambiguous_dates(value: str) -> None:
    assert parse_date(value, day_first=True) == MARCH_5
    assert parse_date(value) == dt.date(2024, 5, 3)


def test_unambiguous_order_wins_over_the_setting() -> None:
    assert parse_date("25/03/2024") == dt.date(2024, 3, 25)
    assert parse_date("03/25/2024", day_first=True) == dt.date(2024, 3, 25)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_date_is_none(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-13-05", "'2024-13-05' is not a date: month 13 does not exist"),
        ("2024-02-30", "'2024-02-30' is not a date: February 2024 has 29 days"),
        ("2023-02-29", "February 2023 has 28 days"),
        ("2024-04-31", "April 2024 has 30 days"),
        ("2024-03-00", "day 0 does not exist"),
        ("31/13/2024", "neither 31 nor 13 can be a month"),
        ("0024-03-05", "the year 24 is not plausible"),
        ("2024-03", "'2024-03' has no day"),
        ("next week", "'next week' is not a date"),
        (123, "'123' is a number, not a date"),
        (True, "is not a date"),
    ],
)
def test_impossible_dates_say_why(value: object, reason: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_date(value)
    assert reason in caught.value.message
    assert "2024-03-05" in caught.value.hint


# ----------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, "1234.5"),
        (0.1, "0.1"),  # no binary noise
        (1234, "1234"),
        (Decimal("12.30"), "12.30"),
        ("1234.5", "1234.5"),
        ("¥1,234.50", "1234.50"),
        ("￥1，234.50", "1234.50"),  # full-width yen sign and comma
        ("１２３４．５０", "1234.50"),
        ("RMB 1,234.50", "1234.50"),
        ("1,234.50元", "1234.50"),
        ("$1,234.50", "1234.50"),
        ("US$ 99", "99"),
        ("HK$1,000", "1000"),
        ("1.234,50 €", "1234.50"),
        ("€ 1.234.567,89", "1234567.89"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),  # no-break space as thousands separator
        ("1'234.50", "1234.50"),
        ("12,5", "12.5"),
        ("1,234", "1234"),
        ("1,234,567", "1234567"),
        ("1.234.567", "1234567"),
        ("(1,234.50)", "-1234.50"),
        ("（1,234.50）", "-1234.50"),
        ("-1234.5", "-1234.5"),
        ("−12", "-12"),  # the minus sign character
        ("-¥12", "-12"),
        ("1234-", "-1234"),
        ("+5", "5"),
        ("12.5万", "125000"),
        ("12.5万元", "125000"),
        ("1.2亿", "120000000"),
        ("3千", "3000"),
        ("1.5e3", "1500"),
    ],
)
def test_amounts_as_people_write_them(value: object, expected: str) -> None:
    amount = parse_amount(value)
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)


def test_amounts_are_exact_decimals() -> None:
    assert str(parse_amount(0.1)) == "0.1"
    assert str(parse_amount("¥1,234.50")) == "1234.50"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_empty_amount_is_none(value: object) -> None:
    assert parse_amount(value) is None


@pytest.mark.parametrize(
    "value", ["abc", "12abc", "1,2345", "1.2.3", "¥", "--5", "1,23,4", True, float("nan")]
)
def test_amounts_that_are_not_amounts(value: object) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_amount(value)
    assert "is not an amount" in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("¥1,234.50", "CNY"),
        ("￥88", "CNY"),
        ("RMB 1,234.50", "CNY"),
        ("cny 5", "CNY"),
        ("100元", "CNY"),
        ("人民币100", "CNY"),
        ("$5", "USD"),
        ("USD 5", "USD"),
        ("US$5", "USD"),
        ("€5", "EUR"),
        ("5 EUR", "EUR"),
        ("HK$5", "HKD"),
        ("HKD 5", "HKD"),
        ("£5", "GBP"),
        ("GBP5", "GBP"),
        ("1234.50", None),
        ("Europe 5", None),  # letters around EUR: not a currency code
        (1234.5, None),
        (None, None),
    ],
)
def test_detect_currency(value: object, code: str | None) -> None:
    assert detect_currency(value) == code


# ----------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "value",
    [
        13800138000,
        13800138000.0,
        1.38001380e10,
        "13800138000",
        "13800138000.0",
        "1.38001380E+10",
        "+86 138 0013 8000",
        "(+86)138-0013-8000",
        "+86-138-0013-8000",
        "0086 13800138000",
        "１３８００１３８０００",
        "  138 0013 8000  ",
        "13800138000（微信同号）",
        "13800138000 (mobile)",
    ],
)
def test_one_phone_any_way_written(value: object) -> None:
    assert parse_phones(value) == ["+8613800138000"]


def test_several_phones_in_one_cell_without_repeats() -> None:
    assert parse_phones("138 0013 8000 / 0755-8888 9999；13800138000") == [
        "+8613800138000",
        "+8675588889999",
    ]


def test_phone_region_applies_to_numbers_without_country_code() -> None:
    assert parse_phones("(212) 555-0123", "US") == ["+12125550123"]
    assert parse_phones("+49 30 1234567") == ["+49301234567"]


@pytest.mark.parametrize("value", [None, "", " "])
def test_empty_phone_cell(value: object) -> None:
    assert parse_phones(value) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a phone number"),
        ("13800138000 / abc", "'abc' is not a phone number"),
        (12.5, "'12.5' is not a phone number"),
        (True, "'True' is not a phone number"),
    ],
)
def test_not_a_phone(value: object, message: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_phones(value)
    assert caught.value.message == message
    assert caught.value.hint


def test_phone_that_lost_digits_in_scientific_notation() -> None:
    # Excel saved the shown text "1.38E+10" in a CSV: the real digits are gone.
    with pytest.raises(ValueProblem) as caught:
        parse_phones("1.38E+10")
    assert "lost digits" in caught.value.message
    assert "Text" in caught.value.hint


# ----------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  深圳  华强  ", "深圳 华强"),
        ("A\tB", "A B"),
        ("ＡＣＭＥ", "ＡＣＭＥ"),  # the person's characters are kept
        ("第一行 \n\n  第二行  ", "第一行\n第二行"),
        (1001.0, "1001"),  # a customer code stored as a number
        (1001, "1001"),
        (12.5, "12.5"),
        (13800138000.0, "13800138000"),
        (True, "TRUE"),
        (dt.date(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5, 9, 30), "2024-03-05 09:30"),
        (Decimal("1.50"), "1.5"),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_text(value: object, expected: str | None) -> None:
    assert parse_text(value) == expected


# ----------------------------------------------------------------------------- whole numbers, flags


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("１２", 12),
        ("1,234", 1234),
        ("12.00", 12),
        ("-3", -3),
        (" 7 ", 7),
    ],
)
def test_parse_int(value: object, expected: int) -> None:
    assert parse_int(value) == expected


@pytest.mark.parametrize("value", [12.5, "12.5", "twelve", True, "1,2"])
def test_parse_int_rejects(value: object) -> None:
    with pytest.raises(ValueProblem, match="is not a whole number"):
        parse_int(value)


def test_parse_int_empty() -> None:
    assert parse_int(None) is None and parse_int(" ") is None


@pytest.mark.parametrize(
    "value", ["是", "对", "yes", "Y", "TRUE", "true", "1", "✓", "√", 1, 1.0, True]
)
def test_parse_bool_true(value: object) -> None:
    assert parse_bool(value) is True


@pytest.mark.parametrize("value", ["否", "不是", "no", "N", "FALSE", "0", "✗", "×", 0, False])
def test_parse_bool_false(value: object) -> None:
    assert parse_bool(value) is False


def test_parse_bool_empty_and_wrong() -> None:
    assert parse_bool(None) is None and parse_bool("") is None
    with pytest.raises(ValueProblem) as caught:
        parse_bool("maybe")
    assert caught.value.message == "'maybe' is not yes or no"
    assert "是/否" in caught.value.hint


def test_value_problem_carries_message_and_hint() -> None:
    problem = ValueProblem("'x' is not a date", "write dates as 2024-03-05")
    assert (problem.message, problem.hint) == ("'x' is not a date", "write dates as 2024-03-05")
    assert isinstance(problem, ValueError)
    assert "'x' is not a date" in str(problem)
