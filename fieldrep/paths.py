"""Every path FieldRep reads or writes, in one place.

``FIELDREP_HOME`` redirects all user data (database, logs, settings, drafts) to one
folder, so tests and demos never touch the real profile.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "FieldRep"
HOME_ENV = "FIELDREP_HOME"


def resources_dir() -> Path:
    """The shipped resources (fonts, translations, icons) beside the package."""
    override = os.environ.get("FIELDREP_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"


def data_dir() -> Path:
    """The user's data folder, created on first use."""
    override = os.environ.get(HOME_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_path() -> Path:
    return data_dir() / "fieldrep.db"


def log_dir() -> Path:
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def font_path() -> Path:
    """The bundled CJK TrueType font shared by Qt and reportlab."""
    return resources_dir() / "fonts" / "wqy-microhei.ttc"


def translations_dir() -> Path:
    return resources_dir() / "translations"
