"""How values read on paper: dates, times, money, yes/no and enumeration labels.

Values arrive raw from :mod:`fieldrep.reports.data` and are turned into text
here, at render time, in the language of the document being built.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from fieldrep.i18n import _
from fieldrep.storage.enums import LabelledEnum
from fieldrep.storage.fields import field_label

Value = str | int | Decimal | date | datetime | time | bool | LabelledEnum | None


def label(model: str, field_name: str) -> str:
    """The translated label of a stored field, the same label forms and errors use."""
    return _(field_label(model, field_name))


def local_datetime(value: datetime) -> datetime:
    """An aware instant in the computer's local time zone (where the rep works)."""
    return value.astimezone()


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_datetime(value).date()
    return value.isoformat()


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return local_datetime(value).strftime("%Y-%m-%d %H:%M")


def format_time(value: time | None) -> str:
    return "" if value is None else value.strftime("%H:%M")


def format_period(period_type: LabelledEnum, start: date) -> str:
    """A period by its start: 2026-10 for a month, 2026Q3, 2026, or the week's Monday."""
    code = period_type.code
    if code == "month":
        return start.strftime("%Y-%m")
    if code == "quarter":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if code == "year":
        return str(start.year)
    return _("Week of {day}").format(day=start.isoformat())


def format_number(value: Decimal | int | None, places: int | None = None) -> str:
    """Grouped digits; decimals kept as stored unless ``places`` is given."""
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if places is not None:
        return f"{value:,.{places}f}"
    exponent = value.as_tuple().exponent
    shown = max(0, -exponent) if isinstance(exponent, int) else 2
    return f"{value:,.{shown}f}"


def format_money(value: Decimal | None) -> str:
    return format_number(value, 2)


def format_bool(value: bool | None) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def format_value(value: Value) -> str:
    """Any stored value as display text; empty string for 'nothing recorded'."""
    if value is None:
        return ""
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, bool):
        return format_bool(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, int | Decimal):
        return format_number(value)
    return value.strip()


def excerpt(text: str | None, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut."""
    if not text:
        return ""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
