"""Drafts never lose what was typed: atomic files, newest write wins, offered back at start."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from test_visit_record import english_words, ui_language
from uidemo import Demo
from uitest import make_window

from fieldrep.storage.models import ContactRecord, Dealer, VisitPlanItem
from fieldrep.storage.queries import todays_plan
from fieldrep.storage.services.core import Store
from fieldrep.ui import drafts
from fieldrep.ui.drafts import (
    DraftsDialog,
    DraftsHint,
    read_drafts,
    write_draft_file,
    write_if_newer,
)
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.visit_record import VisitRecordWindow, VisitTarget, show_visit_record

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def opened_record(qtbot: QtBot, window: MainWindow) -> VisitRecordWindow:
    """The visit record window ``window`` opened, once its data is loaded."""
    qtbot.waitUntil(lambda: bool(window.findChildren(VisitRecordWindow)))
    record = window.findChildren(VisitRecordWindow)[0]
    qtbot.waitUntil(lambda: record.context is not None)
    return record


def save_record(qtbot: QtBot, record: VisitRecordWindow, store: Store, item_id: str) -> str:
    """Save ``record`` with its button; returns the content stored for the planned visit."""
    with qtbot.waitSignal(record.saved, timeout=10000):
        qtbot.mouseClick(record.save_button, Qt.MouseButton.LeftButton)
    with store.read() as session:
        saved = session.scalars(
            select(ContactRecord).where(ContactRecord.plan_item_id == item_id)
        ).one()
        return saved.content


def payload(text: str) -> dict[str, object]:
    return {"version": drafts.FORMAT_VERSION, "title": "拜访记录", "summary": text}


def test_a_draft_is_written_whole_and_read_back(fieldrep_home: Path) -> None:
    path = write_draft_file("visit-1", payload("第一稿"))
    assert path.parent == drafts.drafts_dir()
    assert path.parent.is_relative_to(fieldrep_home)
    assert json.loads(path.read_text(encoding="utf-8"))["summary"] == "第一稿"
    write_draft_file("visit-1", payload("第二稿"))
    assert [p.name for p in path.parent.iterdir()] == ["visit-1.json"], "no temporary files left"
    found = read_drafts()
    assert [(d.draft_id, d.summary) for d in found] == [("visit-1", "第二稿")]


def test_an_older_write_never_overwrites_a_newer_one() -> None:
    older, newer = drafts.next_sequence(), drafts.next_sequence()
    assert write_if_newer("visit-2", newer, payload("新"))
    assert not write_if_newer("visit-2", older, payload("旧"))
    assert drafts.read_draft("visit-2") is not None
    assert drafts.read_draft("visit-2").summary == "新"  # type: ignore[union-attr]


def test_a_discarded_draft_stays_discarded() -> None:
    pending = drafts.next_sequence()
    write_draft_file("visit-3", payload("要丢弃"))
    drafts.discard_draft("visit-3")
    assert not write_if_newer("visit-3", pending, payload("迟到的写入"))
    assert drafts.read_draft("visit-3") is None


def test_unreadable_drafts_are_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    folder = drafts.drafts_dir()
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "old.json").write_text(json.dumps({"version": 99}), encoding="utf-8")
    write_draft_file("good", payload("可读"))
    with caplog.at_level(logging.WARNING, logger="fieldrep.ui"):
        found = read_drafts()
    assert [d.draft_id for d in found] == ["good"]
    assert "cannot be read" in caplog.text and "unknown format" in caplog.text


def test_typing_is_saved_to_the_draft_about_a_second_later(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    with demo_store.read() as session:
        dealer_id = session.scalars(select(Dealer.id).order_by(Dealer.name).limit(1)).one()
    assert main_window.services is not None
    window = show_visit_record(main_window.services, main_window, VisitTarget(dealer_id))
    qtbot.waitUntil(lambda: window.context is not None)
    window.binding.editors["content"].editor.setFocus()
    editor = window.binding.editors["content"].editor
    editor.insertPlainText("老板说下月再谈")  # type: ignore[attr-defined]
    path = drafts.draft_path(window.keeper.draft_id)
    qtbot.waitUntil(lambda: path.exists(), timeout=5000)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["fields"]["content"] == "老板说下月再谈"
    assert saved["dealer_id"] == dealer_id
    assert "老板说下月再谈" in saved["summary"]
    window.autosaver.discard()
    window.close()


def open_typing_window(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> VisitRecordWindow:
    with demo_store.read() as session:
        dealer_id = session.scalars(select(Dealer.id).order_by(Dealer.name).limit(1)).one()
    assert main_window.services is not None
    window = show_visit_record(main_window.services, main_window, VisitTarget(dealer_id))
    qtbot.waitUntil(lambda: window.context is not None)
    window.binding.editors["content"].editor.setFocus()
    return window


def test_a_draft_is_on_disk_within_a_third_of_a_second_of_typing(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    """The window stays open: only the autosave timer writes (it took a second before)."""
    window = open_typing_window(qtbot, main_window, demo_store)
    path = drafts.draft_path(window.keeper.draft_id)
    assert window.autosaver.timer.interval() <= 300
    started = time.monotonic()
    window.binding.editors["content"].editor.insertPlainText("老板说")  # type: ignore[attr-defined]
    qtbot.waitUntil(path.exists, timeout=700)  # 250 ms, then the I/O pool's write
    elapsed = time.monotonic() - started
    assert json.loads(path.read_text(encoding="utf-8"))["fields"]["content"] == "老板说"
    assert window.isVisible()
    assert elapsed < 0.7, f"draft on disk {elapsed * 1000:.0f} ms after typing"
    window.autosaver.discard()
    window.close()


def test_leaving_a_field_or_the_window_writes_the_draft_at_once(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    window = open_typing_window(qtbot, main_window, demo_store)
    window.autosaver.timer.setInterval(60_000)  # only focus-out / deactivate can write
    path = drafts.draft_path(window.keeper.draft_id)
    content = window.binding.editors["content"].editor
    content.insertPlainText("先谈返利")  # type: ignore[attr-defined]
    window.binding.editors["successes"].editor.setFocus()  # focus leaves the field
    qtbot.waitUntil(path.exists, timeout=5000)
    assert json.loads(path.read_text(encoding="utf-8"))["fields"]["content"] == "先谈返利"

    content.setFocus()
    content.insertPlainText("，再谈账期")  # type: ignore[attr-defined]
    # The rep switches to another program: the window is deactivated.
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowDeactivate))

    def has_all() -> bool:
        return "再谈账期" in json.loads(path.read_text(encoding="utf-8"))["fields"]["content"]

    qtbot.waitUntil(has_all, timeout=5000)
    window.autosaver.discard()
    window.close()


def test_close_the_app_mid_record_and_get_the_draft_back_on_the_next_start(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo: Demo,
    qapp: QApplication,
) -> None:
    plan = todays_plan(demo_store)
    item_id = plan[0].item_id
    # Not registered with qtbot: this window is destroyed during the test.
    first = MainWindow(workers, ui_settings, demo.path)
    first.show()
    first.attach_store(demo_store)
    first.open_record("plan_item", item_id)
    record = opened_record(qtbot, first)
    record.binding.editors["content"].editor.insertPlainText("谈了新品铺货")  # type: ignore[attr-defined]
    record.binding.editors["successes"].editor.insertPlainText("同意试销")  # type: ignore[attr-defined]
    objection = record.add_objection()
    objection.verbatim.setText("你们的返利太低")
    objection.verbatim.textEdited.emit("你们的返利太低")
    # The laptop lid closes: the window goes away before the debounce timer fires.
    path = drafts.draft_path(record.keeper.draft_id)
    first.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(record))
    assert path.exists(), "the draft was flushed when the window was destroyed"
    qtbot.waitUntil(lambda: not workers.busy)

    # Next start: the draft is offered back (in Chinese, Qt's buttons included).
    apply_language(qapp, "zh_CN")
    second = make_window(qtbot, workers, ui_settings, demo_store, demo.path)
    qtbot.waitUntil(lambda: second.findChild(DraftsDialog) is not None)
    dialog = second.findChild(DraftsDialog)
    assert dialog is not None and dialog.list.count() == 1
    assert "谈了新品铺货" in dialog.list.item(0).text()
    assert "未保存" in dialog.heading.text()
    SCREENSHOTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(SCREENSHOTS / "dialog_drafts_zh_CN.png"))
    assert not english_words(dialog)
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    restored = opened_record(qtbot, second)
    assert restored.target.plan_item_id == item_id
    assert restored.binding.editors["content"].text() == "谈了新品铺货"
    assert restored.binding.editors["successes"].text() == "同意试销"
    assert [o.verbatim.text() for o in restored.objections] == ["你们的返利太低"]

    # Saving the record is what deletes the draft.
    content = save_record(qtbot, restored, demo_store, item_id)
    assert not path.exists()
    assert content == "谈了新品铺货"
    qtbot.waitUntil(lambda: not workers.busy)


def test_quitting_flushes_the_draft(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, qapp: QApplication
) -> None:
    with demo_store.read() as session:
        dealer_id = session.scalars(select(Dealer.id).order_by(Dealer.name).limit(1)).one()
    assert main_window.services is not None
    window = show_visit_record(main_window.services, main_window, VisitTarget(dealer_id))
    qtbot.waitUntil(lambda: window.context is not None)
    window.binding.editors["lessons"].editor.insertPlainText("先约好时间")  # type: ignore[attr-defined]
    path = drafts.draft_path(window.keeper.draft_id)
    assert not path.exists()
    qapp.aboutToQuit.emit()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["fields"]["lessons"] == "先约好时间"
    window.autosaver.discard()
    window.close()


def test_the_same_planned_visit_reopens_with_its_draft(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    item_id = todays_plan(demo_store)[0].item_id
    main_window.open_record("plan_item", item_id)
    window = opened_record(qtbot, main_window)
    window.binding.editors["content"].editor.insertPlainText("第一段")  # type: ignore[attr-defined]
    window.close()
    qtbot.waitUntil(lambda: not main_window.findChildren(VisitRecordWindow))
    main_window.open_record("plan_item", item_id)
    again = opened_record(qtbot, main_window)
    assert again.binding.editors["content"].text() == "第一段"
    again.autosaver.discard()
    again.close()


# ---------------------------------------------------------------- File > Unsaved visit drafts…


def crash_mid_record(
    qtbot: QtBot, workers: Workers, ui_settings: UiSettings, store: Store, demo: Demo
) -> tuple[str, Path]:
    """Type into a planned visit, then lose the window (a crash or a closed lid)."""
    item_id = todays_plan(store)[0].item_id
    first = MainWindow(workers, ui_settings, demo.path)  # destroyed below: not registered
    first.show()
    first.attach_store(store)
    first.open_record("plan_item", item_id)
    record = opened_record(qtbot, first)
    record.binding.editors["content"].editor.insertPlainText("谈了下季度备货")  # type: ignore[attr-defined]
    path = drafts.draft_path(record.keeper.draft_id)
    first.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(record))
    assert path.exists()
    qtbot.waitUntil(lambda: not workers.busy)
    return item_id, path


def menu_dialog(qtbot: QtBot, window: MainWindow) -> DraftsDialog:
    """Close the start-up offer, then open the list from File > Unsaved visit drafts…."""
    qtbot.waitUntil(lambda: window.findChild(DraftsDialog) is not None)
    offered = window.findChild(DraftsDialog)
    assert offered is not None and offered.at_start
    offered.reject()
    qtbot.waitUntil(lambda: window.findChild(DraftsDialog) is None)
    action = window.actions_by_name["drafts"]
    assert action in window.file_menu.actions()
    action.trigger()
    qtbot.waitUntil(lambda: window.findChild(DraftsDialog) is not None)
    dialog = window.findChild(DraftsDialog)
    assert dialog is not None and not dialog.at_start
    return dialog


def test_open_a_draft_from_the_file_menu_after_a_crash_and_save_it(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo: Demo,
) -> None:
    item_id, path = crash_mid_record(qtbot, workers, ui_settings, demo_store, demo)
    window = make_window(qtbot, workers, ui_settings, demo_store, demo.path)
    assert window.actions_by_name["drafts"].text() == "未保存的拜访草稿…"
    hint = window.findChild(DraftsHint)
    assert hint is not None
    qtbot.waitUntil(lambda: hint.isVisible())
    assert hint.text() == "1 份未保存的草稿"
    dialog = menu_dialog(qtbot, window)
    assert dialog.windowTitle() == "未保存的拜访草稿"
    text = dialog.list.item(0).text()
    with demo_store.read() as session:
        dealer = session.scalars(
            select(Dealer.name)
            .join(VisitPlanItem, VisitPlanItem.dealer_id == Dealer.id)
            .where(VisitPlanItem.id == item_id)
        ).one()
    assert dealer in text and "已输入 7 个字" in text and "谈了下季度备货" in text
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    record = opened_record(qtbot, window)
    assert record.binding.editors["content"].text() == "谈了下季度备货"
    content = save_record(qtbot, record, demo_store, item_id)
    assert not path.exists()
    assert content == "谈了下季度备货"
    qtbot.waitUntil(lambda: not hint.isVisible())  # no drafts left: the hint goes away
    qtbot.waitUntil(lambda: not workers.busy)


def test_discarding_from_the_menu_asks_first(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo: Demo,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    _item_id, path = crash_mid_record(qtbot, workers, ui_settings, demo_store, demo)
    window = make_window(qtbot, workers, ui_settings, demo_store, demo.path)
    dialog = menu_dialog(qtbot, window)

    def answer(button: QMessageBox.StandardButton) -> None:
        qtbot.mouseClick(dialog.discard_button, Qt.MouseButton.LeftButton)
        box = dialog.findChild(QMessageBox, "discard_draft_confirm")
        assert box is not None and "谈了" not in box.text()  # names the dealer, not the text
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    answer(QMessageBox.StandardButton.Cancel)
    assert path.exists() and dialog.list.count() == 1, "cancel keeps the draft"
    with qtbot.waitSignal(dialog.discarded):
        answer(QMessageBox.StandardButton.Discard)
    assert not path.exists()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    hint = window.findChild(DraftsHint)
    assert hint is not None
    qtbot.waitUntil(lambda: not hint.isVisible())
    qtbot.waitUntil(lambda: not workers.busy)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshots_of_the_drafts_list(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo: Demo,
    lang: str,
) -> None:
    crash_mid_record(qtbot, workers, ui_settings, demo_store, demo)
    with ui_language(lang):
        window = make_window(qtbot, workers, ui_settings, demo_store, demo.path)
        dialog = menu_dialog(qtbot, window)
        dialog.retranslate()
        SCREENSHOTS.mkdir(exist_ok=True)
        assert dialog.grab().save(str(SCREENSHOTS / f"dialog_drafts_menu_{lang}.png"))
        hint = window.findChild(DraftsHint)
        assert hint is not None and hint.isVisible()
        assert window.statusBar().grab().save(str(SCREENSHOTS / f"drafts_hint_{lang}.png"))
        if lang == "zh_CN":
            assert not english_words(dialog)
            assert "草稿" in hint.text()
            assert dialog.restore_button.text() == "打开草稿"
        else:
            assert dialog.restore_button.text() == "Open draft"
            assert hint.text() == "1 draft"
        dialog.reject()
    qtbot.waitUntil(lambda: not workers.busy)
