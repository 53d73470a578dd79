"""Which views the main window shows, and which module opens each kind of record.

The navigation is fixed (Today, Dealers, Planner, Follow-ups, Objection playbook,
Reports, Conflicts); each slot names the module that builds its view. A module
exports ``create_view(services, parent) -> View``. Until it exists, the slot shows
a placeholder saying, in the user's language, what will be there. So a helper adds
``fieldrep/ui/views/planner.py`` and the Planner appears, without editing the
main window. Modules are imported on first use, which keeps the start fast.

Records (a dealer card, a planned visit, a visit record, a follow-up) open the
same way: a module exporting ``open_record(services, window, record_id)``.
:func:`register_view` and :func:`register_opener` override a slot directly
(tests, plug-ins).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fieldrep.i18n import N_

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QWidget

    from fieldrep.ui.services import AppServices
    from fieldrep.ui.views.base import View

log = logging.getLogger("fieldrep.ui")

ViewFactory = Callable[["AppServices", "QWidget | None"], "View"]
RecordOpener = Callable[["AppServices", "QMainWindow", str], None]


@dataclass(frozen=True)
class NavSlot:
    """One entry of the navigation: its key, title, module and placeholder text."""

    key: str
    title: str  # English, marked for translation
    module: str
    placeholder: str  # English, marked: what the view will offer


NAVIGATION: tuple[NavSlot, ...] = (
    NavSlot(
        "today",
        N_("Today"),
        "fieldrep.ui.views.today",
        N_("Today's planned visits, dealers due for a visit, follow-ups due and warnings."),
    ),
    NavSlot(
        "dealers",
        N_("Dealers"),
        "fieldrep.ui.views.dealers",
        N_("All dealers, searchable by name, pinyin or phone number."),
    ),
    NavSlot(
        "planner",
        N_("Planner"),
        "fieldrep.ui.views.planner",
        N_(
            "The week and month plan: dealers due by cadence proposed for free slots, "
            "visits planned and moved by drag and drop or keyboard, and the preparation "
            "checklist of each planned visit."
        ),
    ),
    NavSlot(
        "follow_ups",
        N_("Follow-ups"),
        "fieldrep.ui.views.follow_ups",
        N_(
            "Every commitment with its owner, due date and status, overdue ones first, "
            "with a reminder when one falls due."
        ),
    ),
    NavSlot(
        "playbook",
        N_("Objection playbook"),
        "fieldrep.ui.views.playbook",
        N_(
            "Answers to each of the eight types of objection, with how often each one "
            "worked; add and edit answers."
        ),
    ),
    NavSlot(
        "reports",
        N_("Reports"),
        "fieldrep.ui.views.reports",
        N_(
            "Weekly, monthly and yearly customer management reports, pre-visit briefs and "
            "route sheets, with print preview."
        ),
    ),
    NavSlot(
        "conflicts",
        N_("Conflicts"),
        "fieldrep.ui.views.conflicts",
        N_(
            "Changes that collided with a colleague's during sync, field by field (base, "
            "mine, theirs), resolved with one click or by editing."
        ),
    ),
)
NAV_KEYS = tuple(slot.key for slot in NAVIGATION)


@dataclass(frozen=True)
class RecordKind:
    """A kind of record that can be opened: the module that opens it and what it is."""

    kind: str
    title: str  # English, marked
    module: str
    placeholder: str  # English, marked


RECORD_KINDS: dict[str, RecordKind] = {
    kind.kind: kind
    for kind in (
        RecordKind(
            "dealer",
            N_("Dealer card"),
            "fieldrep.ui.views.dealer_card",
            N_(
                "The dealer card will show every field of the profile, the key people and "
                "their roles, the timeline of visits, objections and follow-ups, sales "
                "figures and the credit assessment."
            ),
        ),
        RecordKind(
            "plan_item",
            N_("Planned visit"),
            "fieldrep.ui.views.visit_record",
            N_(
                "The visit record will open from this planned visit: the contact record "
                "card, objections and follow-ups, saved as a draft while you type."
            ),
        ),
        RecordKind(
            "visit",
            N_("Visit record"),
            "fieldrep.ui.views.visit_record",
            N_(
                "The visit record will show the contact record card with its objections "
                "and follow-ups."
            ),
        ),
        RecordKind(
            "new_visit",
            N_("New visit record"),
            "fieldrep.ui.views.visit_record",
            N_(
                "A new visit record will open here: the contact record card, objections "
                "with the dealer's words and your answer, and follow-ups, saved as a draft "
                "while you type."
            ),
        ),
        RecordKind(
            "follow_up",
            N_("Follow-up"),
            "fieldrep.ui.views.follow_ups",
            N_("The follow-up will open here with its owner, due date, steps and status."),
        ),
    )
}

_view_overrides: dict[str, ViewFactory] = {}
_opener_overrides: dict[str, RecordOpener] = {}


def register_view(key: str, factory: ViewFactory) -> None:
    """Use ``factory`` for the navigation slot ``key`` instead of its module."""
    if key not in NAV_KEYS:
        raise KeyError(key)
    _view_overrides[key] = factory


def register_opener(kind: str, opener: RecordOpener) -> None:
    """Use ``opener`` for records of ``kind`` instead of its module."""
    if kind not in RECORD_KINDS:
        raise KeyError(kind)
    _opener_overrides[kind] = opener


def unregister(key: str) -> None:
    """Forget an override (tests)."""
    _view_overrides.pop(key, None)
    _opener_overrides.pop(key, None)


def _module_attribute(module_name: str, attribute: str) -> Any:
    """``module.attribute``, or None when the module does not exist yet."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise  # the module exists but something it imports is missing: a real bug
        return None
    return getattr(module, attribute, None)


def view_factory(key: str) -> ViewFactory | None:
    """The factory of a navigation slot, or None when it is still a placeholder."""
    if key in _view_overrides:
        return _view_overrides[key]
    slot = next(slot for slot in NAVIGATION if slot.key == key)
    factory: ViewFactory | None = _module_attribute(slot.module, "create_view")
    return factory


def record_opener(kind: str) -> RecordOpener | None:
    """The opener of a kind of record, or None when it is not built yet."""
    if kind in _opener_overrides:
        return _opener_overrides[kind]
    opener: RecordOpener | None = _module_attribute(RECORD_KINDS[kind].module, "open_record")
    return opener
