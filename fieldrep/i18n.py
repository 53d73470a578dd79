"""One gettext catalogue for the whole application (storage, CLI, reports, UI).

Source strings are English; zh_CN is the default language. Constants are marked
with :func:`N_` and translated where shown with :func:`_`, so that switching the
language at run time changes every message, validation errors included.
"""

from __future__ import annotations

import gettext
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fieldrep.paths import translations_dir

DOMAIN = "fieldrep"
SUPPORTED_LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

_lock = threading.Lock()
_catalogues: dict[str, gettext.NullTranslations] = {}
_state = threading.local()
_process_language = DEFAULT_LANGUAGE


def _catalogue(language: str) -> gettext.NullTranslations:
    with _lock:
        found = _catalogues.get(language)
        if found is None:
            if language == "en":
                found = gettext.NullTranslations()
            else:
                found = gettext.translation(
                    DOMAIN, localedir=translations_dir(), languages=[language], fallback=True
                )
            _catalogues[language] = found
        return found


def normalise_language(language: str | None) -> str:
    """Map 'zh', 'zh-CN', 'zh_CN.UTF-8', 'en_US' ... to a supported language."""
    if not language:
        return DEFAULT_LANGUAGE
    code = language.replace("-", "_").split(".")[0]
    if code.lower().startswith("zh"):
        return "zh_CN"
    if code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    """Set the language of the whole process (the GUI and the CLI)."""
    global _process_language
    _process_language = normalise_language(language)
    _state.__dict__.pop("language", None)


def current_language() -> str:
    return getattr(_state, "language", _process_language)


@contextmanager
def language(code: str) -> Iterator[None]:
    """Translate in another language on this thread only (e.g. a report in English)."""
    previous = getattr(_state, "language", None)
    _state.language = normalise_language(code)
    try:
        yield
    finally:
        if previous is None:
            del _state.language
        else:
            _state.language = previous


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return _catalogue(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue(current_language()).ngettext(singular, plural, n)


def translate(message: str, lang: str) -> str:
    return _catalogue(normalise_language(lang)).gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a constant for extraction; it is translated where it is shown."""
    return message


def reload_catalogues() -> None:
    """Forget loaded catalogues (after compiling new ones)."""
    with _lock:
        _catalogues.clear()
