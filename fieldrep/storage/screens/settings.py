"""What the settings dialog reads: the settings of the user's territory (no Qt)."""

from __future__ import annotations

from typing import Any

from fieldrep.storage.services.core import Store
from fieldrep.storage.services.settings_service import territory_settings


def load_territory_settings(store: Store) -> dict[str, Any]:
    """Every declared setting of the user's territory, by key, with defaults filled in."""
    with store.read() as session:
        return territory_settings(session, store.user.territory_id)
