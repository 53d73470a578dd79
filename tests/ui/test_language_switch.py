"""Switching the language retranslates every view already built, not only the current one.

Every navigation view is built and loaded in one language, the language is
switched as the Settings dialog does (:func:`fieldrep.ui.language.apply_language`),
and the texts a person reads are collected from each view, shown or not (labels,
buttons, group and tab titles, headers, menus, placeholders, list items). In
English no Chinese may remain; in Chinese no English word. Data (dealer names,
users, answers typed by people) is allowed in either: its words are looked up in
the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from shots import ALLOWED_LATIN
from sqlalchemy import Engine, text

from fieldrep.storage.services.core import Store
from fieldrep.ui import registry
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.base import View

CELL_ROWS = 15
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
# Terms Chinese uses as they are (msgstr "FABE", "VIP客户"), and key names.
ALLOWED_WORDS = ALLOWED_LATIN | {"FABE", "VIP", "Insert"}


def shown_somewhere(widget: QWidget, root: QWidget) -> bool:
    """Visible, or hidden only as a page of a stack or tab the user can turn to."""
    current: QWidget | None = widget
    while current is not None and current is not root:
        parent = current.parentWidget()
        if current.isHidden() and not isinstance(parent, QStackedWidget):
            return False
        current = parent
    return True


def readable_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a person can read in ``root``, on any page."""
    for widget in [root, *root.findChildren(QWidget)]:
        if not shown_somewhere(widget, root):
            continue
        where = f"{type(widget).__name__}:{widget.objectName()}"
        if isinstance(widget, (QLabel, QAbstractButton)):
            yield where, widget.text()
            yield where + ".toolTip", widget.toolTip()
        elif isinstance(widget, QGroupBox):
            yield where, widget.title()
        elif isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit)):
            yield where + ".placeholder", widget.placeholderText()
        elif isinstance(widget, QComboBox):
            for index in range(widget.count()):
                yield where, widget.itemText(index)
        elif isinstance(widget, QMenu):
            yield where, widget.title()
            for action in widget.actions():
                yield where + ".action", action.text()
        if isinstance(widget, (QTabWidget, QTabBar)):
            for index in range(widget.count()):
                yield where + ".tab", widget.tabText(index)
        if isinstance(widget, QHeaderView):
            continue  # an item view too, but its table's headers are read below
        if isinstance(widget, QListWidget):
            for row in range(widget.count()):
                yield where + ".item", widget.item(row).text()
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            for column in range(model.columnCount()):
                header = model.headerData(column, Qt.Orientation.Horizontal)
                yield where + ".header", str(header or "")
            # The first rows' cells: enum labels and computed words must follow too.
            for row in range(min(model.rowCount(), CELL_ROWS)):
                for column in range(model.columnCount()):
                    cell = model.index(row, column).data(Qt.ItemDataRole.DisplayRole)
                    if isinstance(cell, str):
                        yield f"{where}.cell({row},{column})", cell


@dataclass(frozen=True)
class Data:
    """The database's texts: short ones (names, places, titles) and whole long ones."""

    words: str  # short values, one a line: a Chinese or English word found here is data
    texts: frozenset[str]  # every value: a text shown whole (a visit summary) is data

    def holds(self, shown: str, word: str) -> bool:
        return word in self.words or shown.strip() in self.texts


def data_words(engine: Engine) -> Data:
    """Every text value of the database (names, places, titles, notes ...)."""
    values: set[str] = set()
    with engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).scalars()
        for table in list(tables):
            for column in connection.exec_driver_sql(f'PRAGMA table_info("{table}")').all():
                kind = str(column[2]).upper()
                if kind and kind != "TEXT" and not kind.startswith("VARCHAR"):
                    continue
                found = connection.execute(text(f'SELECT DISTINCT "{column[1]}" FROM "{table}"'))
                values.update(str(value) for value in found.scalars() if value)
    short = "\n".join(value for value in values if len(value) <= 40)
    return Data(short, frozenset(value.strip() for value in values))


def stray_chinese(texts: list[tuple[str, str]], data: Data) -> list[str]:
    found = []
    for where, shown in texts:
        for run in CJK_RUN.findall(shown):
            if data.holds(shown, run):
                continue
            found.append(f"{where}: {shown!r}")
            break
    return found


def stray_english(texts: list[tuple[str, str]], data: Data) -> list[str]:
    found = []
    for where, shown in texts:
        plain = re.sub(r"<[^>]+>|&\w+;", "", shown)
        for word in LATIN_WORD.findall(plain):
            if word in ALLOWED_WORDS or re.fullmatch(r"A{1,3}|[BC]", word):
                continue
            if data.holds(shown, word):
                continue
            found.append(f"{where}: {shown!r}")
            break
    return found


def build_every_view(qtbot: QtBot, window: MainWindow) -> dict[str, View]:
    views: dict[str, View] = {}
    for key in registry.NAV_KEYS:
        window.show_view(key)
        view = window.views[key]
        assert isinstance(view, View)
        views[key] = view
    window.show_view("today")
    qtbot.waitUntil(lambda: not window.workers.busy, timeout=20_000)
    return views


def texts_of(window: MainWindow, views: dict[str, View]) -> dict[str, list[tuple[str, str]]]:
    """The texts of each view and of the window's own parts (menus, navigation, status)."""
    found = {key: list(readable_texts(view)) for key, view in views.items()}
    own: list[tuple[str, str]] = []
    for part in (window.menuBar(), window.navigation, window.status):
        own.extend(readable_texts(part))
    for menu in window.menuBar().findChildren(QMenu):
        own.extend(readable_texts(menu))
    found["window"] = own
    return found


@pytest.fixture
def every_view(qtbot: QtBot, main_window: MainWindow) -> dict[str, View]:
    return build_every_view(qtbot, main_window)


def switch(qtbot: QtBot, qapp: QApplication, window: MainWindow, language: str) -> None:
    apply_language(qapp, language)
    QApplication.processEvents()
    qtbot.waitUntil(lambda: not window.workers.busy, timeout=20_000)
    QApplication.processEvents()


def test_switching_to_english_leaves_no_chinese_in_any_view(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    every_view: dict[str, View],
    demo_engine: Engine,
) -> None:
    data = data_words(demo_engine)
    try:
        switch(qtbot, qapp, main_window, "en")
        problems = {
            key: stray_chinese(texts, data)
            for key, texts in texts_of(main_window, every_view).items()
        }
    finally:
        apply_language(qapp, "zh_CN")
    problems = {key: found for key, found in problems.items() if found}
    assert not problems, problems


def test_switching_back_to_chinese_leaves_no_english_in_any_view(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    demo_engine: Engine,
) -> None:
    data = data_words(demo_engine)
    apply_language(qapp, "en")
    try:
        views = build_every_view(qtbot, main_window)
        switch(qtbot, qapp, main_window, "zh_CN")
        problems = {
            key: stray_english(texts, data) for key, texts in texts_of(main_window, views).items()
        }
    finally:
        apply_language(qapp, "zh_CN")
    problems = {key: found for key, found in problems.items() if found}
    assert not problems, problems


def open_record_windows(qtbot: QtBot, window: MainWindow, demo_store: Store) -> list[QWidget]:
    """A dealer card, a visit record of today's route and the sync digest, all loaded."""
    from fieldrep.storage.enums import PlanItemStatus
    from fieldrep.storage.queries import todays_plan
    from fieldrep.ui.views.dealer_card import DealerCardWindow
    from fieldrep.ui.views.digest import show_digest
    from fieldrep.ui.views.visit_record import VisitRecordWindow

    plan = [row for row in todays_plan(demo_store) if row.status == PlanItemStatus.PLANNED]
    assert plan, "the demo plans visits for today"
    window.open_record("plan_item", plan[0].item_id)
    window.open_record("dealer", plan[0].dealer_id)
    qtbot.waitUntil(lambda: bool(window.findChildren(VisitRecordWindow)))
    qtbot.waitUntil(lambda: bool(window.findChildren(DealerCardWindow)))
    [record] = window.findChildren(VisitRecordWindow)
    [card] = window.findChildren(DealerCardWindow)
    qtbot.waitUntil(lambda: record.context is not None)
    qtbot.waitUntil(lambda: card.data is not None and not card.busy)
    digest = show_digest(window)
    qtbot.waitUntil(lambda: not window.workers.busy, timeout=20_000)
    return [card, record, digest]


def test_open_record_windows_follow_the_language_both_ways(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    demo_store: Store,
    demo_engine: Engine,
) -> None:
    data = data_words(demo_engine)
    windows = open_record_windows(qtbot, main_window, demo_store)
    try:
        switch(qtbot, qapp, main_window, "en")
        chinese = {type(w).__name__: stray_chinese(list(readable_texts(w)), data) for w in windows}
        switch(qtbot, qapp, main_window, "zh_CN")
        english = {type(w).__name__: stray_english(list(readable_texts(w)), data) for w in windows}
    finally:
        apply_language(qapp, "zh_CN")
        for opened in windows:
            opened.close()
    assert not {key: found for key, found in chinese.items() if found}
    assert not {key: found for key, found in english.items() if found}


def test_a_status_message_on_screen_follows_the_language(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last sync's summary, shown when the language is switched, is worded again."""
    from fieldrep.sync import api
    from fieldrep.sync.engine import SyncSummary
    from fieldrep.ui.sync_bridge import SyncState

    summary = SyncSummary(pushed=2, pulled=3, merged=1, conflicts=0)
    monkeypatch.setattr(api, "run_sync", lambda _db_path, *_args, **_options: summary)
    monkeypatch.setattr(api, "digest", lambda _engine: ["王经理 修改了 杭州恒达"])
    status = main_window.status
    # Configured as after a sign-in, so Sync now goes to the (patched) sync.
    status.set_state(SyncState(0, 0, None, "https://fieldrep.example.com", "alice"))
    with qtbot.waitSignal(main_window.sync_finished, timeout=20_000):
        qtbot.mouseClick(status.sync_button, Qt.MouseButton.LeftButton)
    chinese = "同步完成：发送 2 条，接收 3 条，合并 1 条，冲突 0 处，被拒 0 条。同事修改了 1 处。"
    english = (
        "Sync done: 2 sent, 3 received, 1 merged, 0 conflicts, 0 refused. 1 change by colleagues."
    )
    assert status.currentMessage() == chinese
    try:
        switch(qtbot, qapp, main_window, "en")
        assert status.currentMessage() == english
        assert status.message_label.full_text == english
    finally:
        apply_language(qapp, "zh_CN")
    QApplication.processEvents()
    assert status.currentMessage() == chinese
    # A message given as plain text stays as it was given.
    status.show_message("已保存")
    apply_language(qapp, "en")
    try:
        assert status.currentMessage() == "已保存"
    finally:
        apply_language(qapp, "zh_CN")


def test_the_settings_dialogs_field_errors_follow_the_language(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow
) -> None:
    """The red lines under the sign-in and cadence fields are worded again on a switch."""
    from shots import save_screenshot

    from fieldrep.storage.errors import ValidationError
    from fieldrep.storage.settings import C_INTERVAL_DAYS
    from fieldrep.ui.settings_dialog import SettingsDialog

    main_window.open_settings()
    dialog = main_window.findChild(SettingsDialog)
    assert isinstance(dialog, SettingsDialog)
    cadence = dialog.cadence_inputs[C_INTERVAL_DAYS.key]
    qtbot.waitUntil(cadence.isEnabled)
    errors = dialog.field_errors
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)  # every field empty
    qtbot.waitUntil(lambda: errors["password"].isVisible())
    cadence.setText("400")
    with pytest.raises(ValidationError):  # shown under its field
        dialog.check_cadence()
    chinese = {
        "server_url": "请输入服务器地址。",
        "username": "请输入用户名。",
        "password": "请输入密码。",
        C_INTERVAL_DAYS.key: "C类客户拜访间隔（天）：不能大于 366",
    }
    english = {
        "server_url": "Enter the server address.",
        "username": "Enter your user name.",
        "password": "Enter your password.",
        C_INTERVAL_DAYS.key: "Days between class C visits: must be at most 366",
    }
    assert {name: errors[name].text() for name in chinese} == chinese
    save_screenshot(dialog, "settings_sign_in_errors_zh_CN")
    try:
        switch(qtbot, qapp, main_window, "en")
        assert {name: errors[name].text() for name in english} == english
        save_screenshot(dialog, "settings_sign_in_errors_en")
        switch(qtbot, qapp, main_window, "zh_CN")
        assert {name: errors[name].text() for name in chinese} == chinese
    finally:
        apply_language(qapp, "zh_CN")
        dialog.reject()


def test_field_errors_in_record_windows_follow_the_language(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, demo_store: Store
) -> None:
    """Red lines under fields of the dealer card, of the visit record and of a child
    editor, shown in Chinese, read in English after a switch (and back).

    Some are the field's own parsing, some a service's refusal of a value the field
    accepts (a birth date in the future, an end before the start): checking the
    field again cannot word those, the line must keep how to word its sentence.
    """
    from shots import save_screenshot

    from fieldrep.ui.child_editors import ChildRecordDialog
    from fieldrep.ui.views.dealer_card import DealerCardWindow
    from fieldrep.ui.views.visit_record import VisitRecordWindow

    card, record, digest = open_record_windows(qtbot, main_window, demo_store)
    assert isinstance(card, DealerCardWindow) and isinstance(record, VisitRecordWindow)
    digest.close()

    def type_into(editor: QWidget, text: str) -> None:
        assert isinstance(editor, QLineEdit)
        editor.setFocus()
        editor.selectAll()
        qtbot.keyClicks(editor, text)

    # The card's profile: a number field given words (its parsing refuses them).
    employees = card.binding.editors["employee_count"]
    type_into(employees.editor, "many")
    assert not employees.validate()
    # The card's people: a new contact born in the future (the service refuses it).
    card.new_contact()
    type_into(card.contact_binding.editors["name"].editor, "Zhang Wei")
    birth = card.contact_binding.editors["birth_date"]
    type_into(birth.editor, "2099-01-01")
    card.save_contact()
    qtbot.waitUntil(lambda: bool(birth.error.text()))
    # The visit record: an objection without the dealer's words.
    objection = record.add_objection(focus=True)
    assert not objection.check()
    # A child editor of the card: a new agreement that ends before it starts.
    table = card.child_tables["agreements"]
    qtbot.mouseClick(table.add_button, Qt.MouseButton.LeftButton)

    def agreement_dialogs() -> list[ChildRecordDialog]:
        found = card.findChildren(ChildRecordDialog, "child_dialog_agreements")
        return [dialog for dialog in found if dialog.isVisible()]

    qtbot.waitUntil(lambda: bool(agreement_dialogs()))
    [dialog] = agreement_dialogs()
    type_into(dialog.binding.editors["title"].editor, "Agreement 2027")
    valid_to = dialog.binding.editors["valid_to"]
    type_into(valid_to.editor, "2020-01-01")
    save_button = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    assert save_button is not None
    save_button.click()
    qtbot.waitUntil(lambda: bool(valid_to.error.text()))
    lines = {
        "card": employees.error,
        "contact": birth.error,
        "objection": objection.verbatim_error,
        "child editor": valid_to.error,
    }

    def shown() -> dict[str, str]:
        assert not any(line.isHidden() for line in lines.values())
        # The card's line under its profile names the unsaved field, by its label.
        return {where: line.text() for where, line in lines.items()} | {
            "card state": card.profile_state.text()
        }

    chinese = shown()
    record.scroll_area.ensureWidgetVisible(objection)  # the screenshots show it
    QApplication.processEvents()
    save_screenshot(card, "field_errors_card_zh_CN")
    save_screenshot(record, "field_errors_visit_zh_CN")
    save_screenshot(dialog, "field_errors_child_editor_zh_CN")
    try:
        switch(qtbot, qapp, main_window, "en")
        english = shown()
        save_screenshot(card, "field_errors_card_en")
        save_screenshot(record, "field_errors_visit_en")
        save_screenshot(dialog, "field_errors_child_editor_en")
        switch(qtbot, qapp, main_window, "zh_CN")
        again = shown()
    finally:
        apply_language(qapp, "zh_CN")
        dialog.reject()
        record.close()
        card.close()
    assert chinese == {
        "card": "员工人数：应为整数，而不是“many”",
        "card state": "未保存的修改：员工人数",
        "contact": "出生日期：不能晚于今天",
        "objection": "客户原话：不能为空",
        "child editor": "到期日期：不能早于生效日期",
    }
    assert english == {
        "card": "Number of employees: must be a whole number, not “many”",
        "card state": "Unsaved changes: Number of employees",
        "contact": "Date of birth: must not be in the future",
        "objection": "Dealer's words: must not be empty",
        "child editor": "Valid to: must not be before Valid from",
    }
    assert again == chinese
