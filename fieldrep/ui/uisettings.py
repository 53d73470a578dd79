"""The GUI's own preferences: window layout, last view, language, server address.

Stored with QSettings in an INI file in the user's data folder (never the Windows
registry), so FIELDREP_HOME moves it with the rest of the profile and tests get a
fresh one. Territory settings (cadence ...) are not here: they are synced rows.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from fieldrep.i18n import normalise_language
from fieldrep.paths import data_dir

FILE_NAME = "fieldrep-gui.ini"

GEOMETRY = "window/geometry"
WINDOW_STATE = "window/state"
LAST_VIEW = "window/last_view"
LANGUAGE = "ui/language"
SERVER_URL = "sync/server_url"
USERNAME = "sync/username"
AUTO_SYNC = "sync/automatic"


def settings_path() -> Path:
    return data_dir() / FILE_NAME


class UiSettings:
    """Typed access to the GUI preferences file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def text(self, key: str, default: str = "") -> str:
        value = self._settings.value(key, default)
        return value if isinstance(value, str) else default

    def set_text(self, key: str, value: str) -> None:
        self._settings.setValue(key, value)

    def bytes(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_bytes(self, key: str, value: QByteArray) -> None:
        self._settings.setValue(key, value)

    def splitter_key(self, name: str) -> str:
        return f"splitters/{name}"

    @property
    def language(self) -> str | None:
        stored = self.text(LANGUAGE)
        return normalise_language(stored) if stored else None

    @language.setter
    def language(self, value: str) -> None:
        self.set_text(LANGUAGE, normalise_language(value))

    @property
    def auto_sync(self) -> bool:
        """Whether the app syncs by itself (on unless the rep switched it off)."""
        return self.text(AUTO_SYNC, "true") != "false"

    @auto_sync.setter
    def auto_sync(self, value: bool) -> None:
        self.set_text(AUTO_SYNC, "true" if value else "false")

    def sync(self) -> None:
        """Write pending changes to disk now (at exit and before a restart)."""
        self._settings.sync()
