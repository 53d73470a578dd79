"""Fixtures of the GUI tests: a demo territory, workers that are shut down, a main window.

The 300-dealer demo database is built once per session and copied for each test.
Error dialogs are replaced by a collector: a test that expects one reads
``shown_errors``; any other message fails the test at teardown.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from uidemo import Demo
from uitest import make_window

from fieldrep.storage.db import open_database
from fieldrep.storage.demo import build_demo
from fieldrep.storage.services.core import Store
from fieldrep.ui.app import use_bundled_font_if_needed
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.startup import resolve_user
from fieldrep.ui.uisettings import UiSettings

# The offscreen platform has no window manager to pass size hints to or to raise a
# window with; these warnings are not faults of the application.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from synce2e import World, make_world  # noqa: E402
from synctest_keyring import MemoryKeyring  # noqa: E402

DEMO_DEALERS = 300
DEMO_SEED = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = tmp_path_factory.mktemp("ui-demo") / "demo.db"
    engine = open_database(path)
    try:
        summary = build_demo(engine, dealers=DEMO_DEALERS, seed=DEMO_SEED)
    finally:
        engine.dispose()
    return Demo(path, summary)


@pytest.fixture
def demo(demo_template: Demo, tmp_path: Path) -> Demo:
    """A private copy of the demo database."""
    path = tmp_path / "fieldrep.db"
    shutil.copyfile(demo_template.path, path)
    return Demo(path, demo_template.summary)


@pytest.fixture
def demo_engine(demo: Demo) -> Iterator[Engine]:
    engine = open_database(demo.path)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_store(demo: Demo, demo_engine: Engine) -> Store:
    """The demo rep's store, with today fixed to the demo's today."""
    user = resolve_user(demo_engine)
    assert user.user_id == demo.summary.rep_user_id
    day = demo.summary.today
    return Store(demo_engine, user, today=lambda: day)


@pytest.fixture(scope="session", autouse=True)
def cjk_family(qapp: QApplication) -> str:
    """The bundled Chinese font, as the application loads it at start."""
    family = use_bundled_font_if_needed(qapp)
    assert family is not None, "resources/fonts/wqy-microhei.ttc did not load"
    return family


@pytest.fixture
def shown_errors() -> Iterator[list[tuple[str, Severity]]]:
    """Messages the error dialog would have shown; unexpected ones fail the test."""
    collected: list[tuple[str, Severity]] = []
    yield collected


def close_windows(qapp: QApplication, *, hide_only: bool = False) -> None:
    """Close every window a test left open; one that refuses (unsaved changes) is hidden.

    ``hide_only`` when the workers are already shut down: a closing window may
    start work (a visit record saves its draft), which they would refuse.
    """
    for widget in qapp.topLevelWidgets():
        if widget.isVisible() and (hide_only or not widget.close()):
            widget.hide()


def delete_windows(qapp: QApplication) -> None:
    """Delete every top-level widget: none lives on into the next test.

    A window outliving its test still gets that test's events (a language switch
    sends LanguageChange to every top-level widget), and one that reloads on it
    would submit work to workers shut down long ago.
    """
    for widget in qapp.topLevelWidgets():
        widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def workers(
    qtbot: QtBot, qapp: QApplication, shown_errors: list[tuple[str, Severity]]
) -> Iterator[Workers]:
    """Real worker threads; at the end of the test its windows close, then they shut down."""
    pool = Workers(
        present_error=lambda _parent, message, severity: shown_errors.append((message, severity))
    )
    yield pool
    close_windows(qapp, hide_only=pool.closed)
    qtbot.waitUntil(lambda: not pool.busy)
    delete_windows(qapp)
    pool.shutdown()


@pytest.fixture
def ui_settings(fieldrep_home: Path) -> UiSettings:
    settings = UiSettings()
    # Automatic sync off: a test clicks "Sync now" when it means to sync, and no
    # timer starts one in between (tests/ui/test_auto_sync.py switches it on).
    settings.auto_sync = False
    return settings


@pytest.fixture
def main_window(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo: Demo,
    shown_errors: list[tuple[str, Severity]],
) -> Iterator[MainWindow]:
    window = make_window(qtbot, workers, ui_settings, demo_store, demo.path)
    yield window
    qtbot.waitUntil(lambda: not workers.busy)
    assert not shown_errors, shown_errors


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The real sync server in-process (tests/sync/synce2e.py), tokens in an in-memory
    keyring; tests that sign in their own way define a world of their own."""
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    world = make_world(tmp_path)
    yield world
    world.transport.shutdown()
    world.database.dispose()
    keyring.set_keyring(previous)
