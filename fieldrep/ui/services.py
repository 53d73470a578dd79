"""What every view gets at construction: the store, the workers and the preferences.

Wired once at start-up by :mod:`fieldrep.ui.app` and passed in explicitly; there
is no global application object to reach for (the Anki/Picard anti-pattern).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fieldrep.ui.ops import Workers
from fieldrep.ui.uisettings import UiSettings

if TYPE_CHECKING:
    from fieldrep.storage.services.core import Store


@dataclass(frozen=True)
class AppServices:
    """The handles a view needs: data (store, database file), threads and preferences."""

    store: Store
    db_path: Path
    workers: Workers
    settings: UiSettings
