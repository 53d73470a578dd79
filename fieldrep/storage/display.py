"""Amounts and sentences as a reader sees them, in the current language (no Qt).

Shared by the GUI and by the screen data that words its own messages
(:mod:`fieldrep.storage.screens.today`). Imports nothing of the database layer, so
the main window can use it before that layer has been imported (cold start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldrep.i18n import _, current_language

if TYPE_CHECKING:
    from decimal import Decimal


def format_money(amount: Decimal | float | int | None) -> str:
    """Yuan with thousands separators; Chinese readers get 万 for large amounts."""
    from decimal import Decimal

    if amount is None:
        return ""
    value = Decimal(str(amount))
    if current_language() == "zh_CN" and abs(value) >= 10000:
        shown = f"{value / 10000:,.1f}".removesuffix(".0")
        return _("{amount} ten-thousand yuan").format(amount=shown)
    return _("{amount} yuan").format(amount=f"{value:,.0f}")


def join_sentences(*sentences: str) -> str:
    """Sentences one after the other: Chinese needs no space between them."""
    separator = "" if current_language() == "zh_CN" else " "
    return separator.join(sentence for sentence in sentences if sentence)
