"""Settings: cadence rules with inline messages, switching the language, signing in."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from fieldrep.storage.services.settings_service import territory_settings
from fieldrep.storage.settings import C_INTERVAL_DAYS, VISITS_PER_MONTH_A, VISITS_PER_MONTH_B
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.settings_dialog import SettingsDialog
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.today import TodayView


@pytest.fixture
def dialog(qtbot: QtBot, main_window: MainWindow) -> SettingsDialog:
    main_window.open_settings()
    found = main_window.findChild(SettingsDialog)
    assert isinstance(found, SettingsDialog)
    qtbot.waitUntil(lambda: found.cadence_inputs[VISITS_PER_MONTH_A.key].isEnabled())
    return found


def _ok(dialog: SettingsDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def _stored(main_window: MainWindow) -> dict[str, object]:
    assert main_window.services is not None
    store = main_window.services.store
    with store.read() as session:
        return territory_settings(session, store.user.territory_id)


def test_cadence_fields_show_the_territory_values(dialog: SettingsDialog) -> None:
    assert dialog.cadence_inputs[VISITS_PER_MONTH_A.key].text() == "2"
    assert dialog.cadence_inputs[VISITS_PER_MONTH_B.key].text() == "1"
    assert dialog.cadence_inputs[C_INTERVAL_DAYS.key].text() == "60"
    assert dialog.cadence_labels[VISITS_PER_MONTH_A.key].text() == "A类客户每月拜访次数"


def test_bad_cadence_values_are_explained_next_to_their_fields(
    qtbot: QtBot, dialog: SettingsDialog, main_window: MainWindow
) -> None:
    dialog.cadence_inputs[VISITS_PER_MONTH_A.key].setText("两次")
    dialog.cadence_inputs[C_INTERVAL_DAYS.key].setText("400")
    _ok(dialog)
    error_a = dialog.field_errors[VISITS_PER_MONTH_A.key]
    error_c = dialog.field_errors[C_INTERVAL_DAYS.key]
    assert error_a.isVisible() and error_c.isVisible()
    assert error_a.text() == "A类客户每月拜访次数：应为数字"
    assert error_c.text() == "C类客户拜访间隔（天）：不能大于 366"
    assert not dialog.field_errors[VISITS_PER_MONTH_B.key].isVisible()
    assert dialog.isVisible(), "nothing is saved while a field is wrong"
    assert _stored(main_window)[C_INTERVAL_DAYS.key] == 60


def test_good_cadence_values_are_saved(
    qtbot: QtBot, dialog: SettingsDialog, main_window: MainWindow
) -> None:
    dialog.cadence_inputs[VISITS_PER_MONTH_A.key].setText("3")
    dialog.cadence_inputs[C_INTERVAL_DAYS.key].setText(" 45 ")
    _ok(dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    stored = _stored(main_window)
    assert stored[VISITS_PER_MONTH_A.key] == 3
    assert stored[C_INTERVAL_DAYS.key] == 45
    assert stored[VISITS_PER_MONTH_B.key] == 1


def test_switch_to_english_retranslates_the_open_window(
    qtbot: QtBot, dialog: SettingsDialog, main_window: MainWindow, qapp: QApplication
) -> None:
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    try:
        _ok(dialog)
        qtbot.waitUntil(lambda: main_window.windowTitle() == "FieldRep sales visit workbench")
        assert [main_window.navigation.item(i).text() for i in range(7)] == [
            "Today",
            "Dealers",
            "Planner",
            "Follow-ups",
            "Objection playbook",
            "Reports",
            "Conflicts",
        ]
        today = main_window.views["today"]
        assert isinstance(today, TodayView)
        assert today.plan.title.text().startswith("Today's visits: ")
        assert today.plan.model.headerData(2, Qt.Orientation.Horizontal) == "Dealer"
        assert main_window.status.sync_button.text() == "Sync now"
        assert UiSettings().language == "en", "the choice is kept for the next start"
        main_window.show_view("dealers")
        dealers = main_window.views["dealers"]
        assert dealers.search.placeholderText() == "Search by name, pinyin initials or phone…"
    finally:
        apply_language(qapp, "zh_CN")


def test_sign_in_needs_every_field(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.server.setText("")
    dialog.username.setText("liming")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.field_errors["server_url"].isVisible())
    assert dialog.field_errors["server_url"].text() == "请输入服务器地址。"
    assert dialog.field_errors["password"].text() == "请输入密码。"
    assert not dialog.field_errors["username"].isVisible()
    dialog.reject()


def test_sign_in_without_a_secure_keyring_says_why(qtbot: QtBot, dialog: SettingsDialog) -> None:
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        dialog.server.setText("http://127.0.0.1:9")
        dialog.username.setText("liming")
        dialog.password.setText("secret")
        dialog.sign_in_button.click()
        qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled())
    finally:
        keyring.set_keyring(previous)
    assert dialog.sync_message.text().startswith("此电脑没有可用的安全密码存储")
    assert dialog.password.text() == "", "the password is never kept in the dialog"
    dialog.reject()


def test_automatic_sync_can_be_switched_off_and_on(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, ui_settings: UiSettings
) -> None:
    from shots import save_screenshot

    ui_settings.auto_sync = True  # the app's default (the UI tests' fixture turns it off)
    main_window.auto_sync.set_enabled(True)
    main_window.open_settings()
    dialog = main_window.findChild(SettingsDialog)
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(lambda: dialog.cadence_inputs[VISITS_PER_MONTH_A.key].isEnabled())
    assert dialog.auto_sync.isChecked()
    assert dialog.auto_sync.text() == "自动同步"
    save_screenshot(dialog, "settings_auto_sync_zh_CN")
    apply_language(qapp, "en")
    try:
        assert dialog.auto_sync.text() == "Sync automatically"
        qtbot.wait(100)  # the layout follows the longer English labels first
        save_screenshot(dialog, "settings_auto_sync_en")
    finally:
        apply_language(qapp, "zh_CN")
    dialog.auto_sync.setChecked(False)
    _ok(dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert ui_settings.auto_sync is False
    assert UiSettings(ui_settings.path).auto_sync is False, "kept for the next start"
    assert not main_window.auto_sync.enabled and not main_window.auto_sync.timer.isActive()


def test_a_new_profile_syncs_automatically(fieldrep_home: object) -> None:
    assert UiSettings().auto_sync is True
