"""Start-up: the bundled font, the language, and the whole application run end to end."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics
from PySide6.QtWidgets import QApplication

from fieldrep.ui.app import apply_language, choose_language, parse_arguments, run_gui, window_title
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.today import TodayView


def test_bundled_font_covers_chinese(cjk_family: str) -> None:
    chinese_families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    assert cjk_family in chinese_families
    metrics = QFontMetrics(QFont(cjk_family))
    assert all(metrics.inFontUcs4(ord(char)) for char in "销售拜访工作台经销商")


def test_apply_language_switches_the_catalogue(qapp: QApplication) -> None:
    assert apply_language(qapp, "en_US.UTF-8") == "en"
    assert window_title() == "FieldRep sales visit workbench"
    assert apply_language(qapp, "zh-CN") == "zh_CN"
    assert window_title() == "FieldRep 销售拜访工作台"


def test_language_choice_order(ui_settings: UiSettings, monkeypatch: object) -> None:
    assert choose_language(ui_settings) == "zh_CN"
    ui_settings.language = "en"
    assert choose_language(ui_settings) == "en"
    assert choose_language(ui_settings, "zh_CN") == "zh_CN"


def test_arguments_ignore_qt_options() -> None:
    parsed = parse_arguments(["fieldrep", "--db", "/tmp/x.db", "-platform", "offscreen"])
    assert parsed.db == Path("/tmp/x.db")
    assert parsed.today is None


def test_run_gui_opens_the_database_and_shows_today(
    qapp: QApplication, tmp_path: Path, fieldrep_home: Path
) -> None:
    """The real start-up path on an empty database: a local rep is made, Today is shown."""
    seen: dict[str, object] = {}
    db_path = tmp_path / "fresh.db"

    def ready(window: MainWindow) -> None:
        seen["title"] = window.windowTitle()

        def check() -> None:
            view = window.current_view()
            if window.services is None or not isinstance(view, TodayView) or view.data is None:
                from PySide6.QtCore import QTimer

                QTimer.singleShot(20, check)
                return
            seen["user"] = window.services.store.user.display_name
            seen["plan"] = len(view.data.plan)
            window.close()

        check()

    code = run_gui(["fieldrep", "--db", str(db_path), "--today", "2026-11-25"], on_ready=ready)
    assert code == 0
    assert seen["title"] == "FieldRep 销售拜访工作台"
    assert seen["user"], "a local rep was made on the empty database"
    assert seen["plan"] == 0
    assert db_path.is_file()
    assert (fieldrep_home / "fieldrep-gui.ini").is_file(), "the layout was saved on close"
