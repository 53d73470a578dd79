"""Phone numbers, unified social credit codes, e-mail, money, percentages, dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from fieldrep.storage import formats


@pytest.mark.parametrize(
    "text",
    ["13812345678", "19912345678", "+8613812345678", "+86 138 1234 5678", "0086-13812345678"],
)
def test_good_mobiles(text: str) -> None:
    assert formats.mobile_problem(text) is None
    assert formats.phone_problem(text) is None


@pytest.mark.parametrize(
    "text", ["12812345678", "1381234567", "138123456789", "+1 13812345678", "abc", "010-12345678"]
)
def test_bad_mobiles(text: str) -> None:
    assert formats.mobile_problem(text) == formats.REASON_BAD_MOBILE


@pytest.mark.parametrize(
    "text",
    [
        "010-12345678",
        "021-6543210",
        "0571-87654321",
        "0571 8765432",
        "(0755)12345678",
        "（0755）12345678",
        "+86-10-12345678",
        "+86 571 87654321",
        "0571-87654321 转 801",
        "0571-87654321-8",
        "010-12345678 ext. 22",
        "01012345678",
    ],
)
def test_good_landlines(text: str) -> None:
    assert formats.landline_problem(text) is None
    assert formats.phone_problem(text) is None


@pytest.mark.parametrize(
    "text",
    ["0123-1234567", "010-123456", "010-123456789", "010-02345678", "12345678", "0571-8765432a"],
)
def test_bad_landlines(text: str) -> None:
    assert formats.landline_problem(text) == formats.REASON_BAD_LANDLINE
    assert formats.phone_problem(text) == formats.REASON_BAD_PHONE


def test_normalise_mobile() -> None:
    assert formats.normalise_mobile("+86 138-1234-5678") == "13812345678"


# Codes with a correct GB 32100-2015 check character (the last one).
GOOD_CODES = [
    "91110000600037341L",
    "91350100M000100Y43",
    "914403001922038216",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", GOOD_CODES)
def test_good_credit_codes(code: str) -> None:
    assert formats.credit_code_problem(code) is None
    assert formats.credit_code_problem(code.lower()) is None
    assert formats.credit_code_check_character(code[:17]) == code[17]


def test_credit_code_check_character_computed_by_hand() -> None:
    # GB 32100-2015: weights 3^i mod 31, check = 31 - (sum mod 31), 31 -> 0.
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91110000600037341"
    total = sum(alphabet.index(char) * pow(3, i, 31) for i, char in enumerate(body))
    assert alphabet[(31 - total % 31) % 31] == "L"
    assert formats.credit_code_check_character(body) == "L"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91110000600037341M", formats.REASON_BAD_CREDIT_CODE_CHECK),
        ("9111000060003734", formats.REASON_BAD_CREDIT_CODE_LENGTH),
        ("91110000600037341LL", formats.REASON_BAD_CREDIT_CODE_LENGTH),
        ("9111000060003734IL", formats.REASON_BAD_CREDIT_CODE_CHARS),
        ("911A0000600037341L", formats.REASON_BAD_CREDIT_CODE_CHARS),
        ("9111000060003734OL", formats.REASON_BAD_CREDIT_CODE_CHARS),
    ],
)
def test_bad_credit_codes(code: str, reason: str) -> None:
    assert formats.credit_code_problem(code) == reason


@pytest.mark.parametrize("text", ["li.si@example.com", "wang+rep@haixin.com.cn", "a@b.cn"])
def test_good_emails(text: str) -> None:
    assert formats.email_problem(text) is None


@pytest.mark.parametrize("text", ["li.si", "li si@example.com", "a@b", "@example.com", "a@@b.cn"])
def test_bad_emails(text: str) -> None:
    assert formats.email_problem(text) == formats.REASON_BAD_EMAIL


def test_money() -> None:
    assert formats.money_problem(Decimal("0")) is None
    assert formats.money_problem(Decimal("12.30")) is None
    assert formats.money_problem(Decimal("12.300")) is None  # trailing zeros are not fen
    assert formats.money_problem(Decimal("1E+3")) is None
    assert formats.money_problem(Decimal("-0.01")) == formats.REASON_NEGATIVE
    assert formats.money_problem(Decimal("1.005")) == formats.REASON_TOO_MANY_DECIMALS


def test_percent() -> None:
    assert formats.percent_problem(Decimal("0")) is None
    assert formats.percent_problem(100) is None
    assert formats.percent_problem(Decimal("100.01")) == formats.REASON_BAD_PERCENT
    assert formats.percent_problem(-1) == formats.REASON_BAD_PERCENT


def test_dates() -> None:
    assert formats.date_problem(date(2026, 3, 1)) is None
    assert formats.date_problem(datetime(2026, 3, 1, 12, 0)) is None
    assert formats.date_problem(date(1899, 12, 31)) == formats.REASON_DATE_RANGE
    assert formats.date_problem(date(2101, 1, 1)) == formats.REASON_DATE_RANGE
