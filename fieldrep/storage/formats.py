"""Format checks for the values Chinese dealer records hold.

Each ``*_problem`` function returns ``None`` for a good value or the English
reason (marked with ``N_``) why it is refused, so validation rules can turn it
into a :class:`~fieldrep.storage.errors.FieldProblem` for any field.

Phone numbers are checked by shape, not against carrier allocations: a rep must
be able to record a number from a segment newer than any bundled metadata.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from stdnum.cn import uscc

from fieldrep.i18n import N_

# Mainland mobile: 11 digits starting 13-19, optionally +86 / 0086 / 86 in front.
MOBILE_RE = re.compile(r"^(?:(?:\+|00)?86[ -]?)?1[3-9]\d{9}$")
# Landline: area code 010, 02x or 0xxx (x from 3 to 9), then a 7 or 8 digit local
# number, an optional extension after 转, ext, x, # or a dash. The +86 form
# drops the trunk 0.
LANDLINE_RE = re.compile(
    r"^(?:(?:(?:\+|00)86[ -]?\(?0?)|\(?0)"
    r"(?P<area>10|2\d|[3-9]\d{2})\)?[ -]?(?P<local>[1-9]\d{6,7})"
    r"(?:\s*(?:转|ext\.?|x|#|-)\s*(?P<ext>\d{1,6}))?$",
    re.IGNORECASE,
)
# Pragmatic e-mail shape: one @, a dotted domain, no spaces (no DNS look-up).
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

REASON_BAD_MOBILE = N_("is not a mainland mobile number (11 digits starting with 13 to 19)")
REASON_BAD_PHONE = N_(
    "is not a valid phone number (a mobile number, or a landline like 010-12345678)"
)
REASON_BAD_LANDLINE = N_("is not a valid landline number (like 0571-87654321)")
REASON_BAD_CREDIT_CODE_LENGTH = N_("must be 18 characters long")
REASON_BAD_CREDIT_CODE_CHARS = N_(
    "may only contain digits and the capital letters A-Y except I, O, S, V and Z"
)
REASON_BAD_CREDIT_CODE_CHECK = N_("has a wrong check character (the last one)")
REASON_BAD_EMAIL = N_("is not a valid e-mail address")
REASON_NEGATIVE = N_("must not be negative")
REASON_TOO_MANY_DECIMALS = N_("may have at most {places} decimal places")
REASON_BAD_PERCENT = N_("must be between 0 and 100")
REASON_DATE_RANGE = N_("must be between {earliest} and {latest}")
REASON_IN_FUTURE = N_("must not be in the future")

# The two-character prefix of the code: registration authority then entity type.
_CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _compact_phone(text: str) -> str:
    return re.sub(r"[\s]+", " ", text.strip()).replace("（", "(").replace("）", ")")


def mobile_problem(text: str) -> str | None:
    """None for a mainland mobile number (+86 optional), else the reason."""
    digits = re.sub(r"[\s-]", "", text.strip())
    return None if MOBILE_RE.match(digits) else REASON_BAD_MOBILE


def landline_problem(text: str) -> str | None:
    """None for a landline like 010-12345678 or 0571-8765432 转 801, else the reason."""
    return None if LANDLINE_RE.match(_compact_phone(text)) else REASON_BAD_LANDLINE


def phone_problem(text: str) -> str | None:
    """None for a mobile or a landline number, else the reason."""
    if mobile_problem(text) is None or landline_problem(text) is None:
        return None
    return REASON_BAD_PHONE


def normalise_mobile(text: str) -> str:
    """The 11 bare digits of a valid mobile number (drops +86 and spaces)."""
    digits = re.sub(r"\D", "", text)
    return digits[-11:]


def credit_code_problem(text: str) -> str | None:
    """None for a valid 18-character unified social credit code (GB 32100-2015)."""
    code = uscc.compact(text)
    if len(code) != 18:
        return REASON_BAD_CREDIT_CODE_LENGTH
    if any(char not in _CREDIT_CODE_ALPHABET for char in code) or not code[2:8].isdigit():
        return REASON_BAD_CREDIT_CODE_CHARS
    if uscc.calc_check_digit(code[:17]) != code[17]:
        return REASON_BAD_CREDIT_CODE_CHECK
    return None


def credit_code_check_character(first_17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    return uscc.calc_check_digit(first_17)


def email_problem(text: str) -> str | None:
    return None if EMAIL_RE.match(text.strip()) else REASON_BAD_EMAIL


def money_problem(value: Decimal) -> str | None:
    """None for a non-negative amount with at most 2 decimal places (fen)."""
    if value < 0:
        return REASON_NEGATIVE
    return decimal_places_problem(value, 2)


def decimal_places_problem(value: Decimal, places: int) -> str | None:
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return REASON_TOO_MANY_DECIMALS
    return None


def non_negative_problem(value: Decimal | int) -> str | None:
    return REASON_NEGATIVE if value < 0 else None


def percent_problem(value: Decimal | int) -> str | None:
    """None for a percentage between 0 and 100 inclusive."""
    return None if 0 <= value <= 100 else REASON_BAD_PERCENT


def date_problem(
    value: date | datetime,
    earliest: date = EARLIEST_DATE,
    latest: date = LATEST_DATE,
) -> str | None:
    """None for a date (or instant) between ``earliest`` and ``latest``."""
    day = value.date() if isinstance(value, datetime) else value
    return None if earliest <= day <= latest else REASON_DATE_RANGE
