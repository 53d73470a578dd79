"""Small shared pieces of the GUI: the application title, dates and numbers as shown.

Kept free of storage imports so that the main window can appear before the
database layer has been imported (cold start).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from fieldrep.i18n import N_, _, current_language

if TYPE_CHECKING:
    from decimal import Decimal

    from PySide6.QtWidgets import QLabel

APP_TITLE = N_("FieldRep sales visit workbench")

WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


def app_title() -> str:
    """The application's name as shown in title bars, in the current language."""
    return _(APP_TITLE)


def format_day(day: date | None) -> str:
    """A date as a rep reads it: 2026-11-25 (ISO is unambiguous in both languages)."""
    return "" if day is None else day.isoformat()


def format_long_day(day: date) -> str:
    """The heading of the Today view: 2026年11月25日 星期三 / Wednesday, 25 November 2026."""
    if current_language() == "zh_CN":
        return f"{day.year}年{day.month}月{day.day}日 {_(WEEKDAYS[day.weekday()])}"
    return f"{_(WEEKDAYS[day.weekday()])}, {day.day} {day.strftime('%B')} {day.year}"


def format_moment(moment: datetime | None, today: date) -> str:
    """A local time stamp: only the time when it is today, else date and time."""
    if moment is None:
        return ""
    local = moment.astimezone()
    if local.date() == today:
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def format_percent(value: Decimal | float) -> str:
    from decimal import Decimal

    return f"{Decimal(str(value)):.1f}%"


def with_aside(text: str, aside: str | None) -> str:
    """``text`` followed by ``aside`` in brackets of the user's language (Chinese
    full-width, English half-width with a space); ``text`` alone without an aside."""
    if not aside:
        return text
    return _("{text} ({aside})").format(text=text, aside=aside)


def make_bold(label: QLabel, scale: float = 1.0) -> QLabel:
    """Show ``label`` in bold, its font ``scale`` times the size: titles and headings.
    Returns the label, to be used where it is made."""
    font = label.font()
    font.setBold(True)
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label
