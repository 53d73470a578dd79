"""Print preview: the route pack from the planner, pages rendered by QtPdf, export, print."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from test_planner import open_planner

from fieldrep.ui import print_preview
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.print_preview import PrintMenuButton, PrintPreviewDialog, preview_document

ROUTE_DAY = date(2026, 11, 26)


def pdf_pages(pdf: bytes) -> int:
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    try:
        return document.pageCount()
    finally:
        document.close()


def has_ink(image: QImage) -> bool:
    """True when a picture shows something besides white paper and grey margins."""
    small = image.scaled(60, 80)
    dark = 0
    for y in range(small.height()):
        for x in range(small.width()):
            if small.pixelColor(x, y).lightness() < 128:
                dark += 1
    return dark > 5


def open_route_pack(qtbot: QtBot, window: MainWindow) -> PrintPreviewDialog:
    view = open_planner(qtbot, window, ROUTE_DAY)
    assert view.data is not None
    assert view.select_item(view.data.items_on(ROUTE_DAY)[0].id)
    assert view.route_button.isEnabled()
    qtbot.mouseClick(view.route_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(PrintPreviewDialog)
    assert dialog is not None
    if dialog.pdf is None:
        with qtbot.waitSignal(dialog.ready, timeout=60_000):
            pass
    return dialog


def test_route_pack_preview_export_and_print(
    qtbot: QtBot, main_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = open_route_pack(qtbot, main_window)
    pages = dialog.document.pageCount()
    assert pages > 0
    assert dialog.document.status() == QPdfDocument.Status.Ready
    assert has_ink(dialog.document.render(0, QSize(595, 842)))
    qtbot.waitUntil(lambda: has_ink(dialog.view.grab().toImage()), timeout=30_000)
    # The pack has a cover page and a brief for each of the day's visits.
    view = main_window.views["planner"]
    assert pages > len(view.data.items_on(ROUTE_DAY))  # type: ignore[attr-defined]
    assert dialog.page_label.text() == f"第 1 页，共 {pages} 页"
    assert dialog.print_button.isEnabled() and dialog.export_button.isEnabled()

    # Export: the file is the previewed PDF.
    target = tmp_path / "out" / "route.pdf"
    monkeypatch.setattr(print_preview, "choose_export_path", lambda _parent, _name: str(target))
    with qtbot.waitSignal(dialog.exported, timeout=30_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    written = target.read_bytes()
    assert written.startswith(b"%PDF") and written == dialog.pdf
    assert pdf_pages(written) == pages
    assert str(target) in dialog.status.text()

    # Print: the system dialog is replaced by a printer writing a PDF file; pages
    # 2 to 3 only, at a low resolution to keep the test quick.
    printed = tmp_path / "printed.pdf"

    def choose(_parent: QWidget, printer: QPrinter, count: int) -> bool:
        assert count == pages
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        printer.setResolution(72)
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setFromTo(2, 3)
        return True

    monkeypatch.setattr(print_preview, "choose_printer", choose)
    with qtbot.waitSignal(dialog.printed, timeout=60_000) as printed_signal:
        qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    assert printed_signal.args == [2]
    assert pdf_pages(printed.read_bytes()) == 2

    # Cancelled dialogs change nothing.
    monkeypatch.setattr(print_preview, "choose_printer", lambda *_args: False)
    monkeypatch.setattr(print_preview, "choose_export_path", lambda *_args: None)
    dialog.print_document()
    dialog.export_document()
    assert not dialog.busy
    dialog.close()


def test_a_day_without_visits_says_so(qtbot: QtBot, main_window: MainWindow) -> None:
    dialog = preview_document(main_window, "route", "2026-12-25")
    with qtbot.waitSignal(dialog.failed, timeout=30_000) as failed:
        pass
    assert failed.args == ["2026-12-25 没有计划拜访。"] or "2026-12-25" in failed.args[0]
    assert not dialog.print_button.isEnabled()
    assert dialog.message.isVisible() and "2026-12-25" in dialog.message.text()
    dialog.close()


def test_dealer_card_and_brief_previews(
    qtbot: QtBot, main_window: MainWindow, demo: object
) -> None:
    assert main_window.services is not None
    with main_window.services.store.read() as session:
        from sqlalchemy import select

        from fieldrep.storage.models import Dealer

        dealer_id = session.scalars(select(Dealer.id).limit(1)).one()
    for kind in ("card", "brief"):
        dialog = preview_document(main_window, kind, dealer_id)
        with qtbot.waitSignal(dialog.ready, timeout=60_000):
            pass
        assert dialog.document.pageCount() > 0
        dialog.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_print_preview_screenshots(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, lang: str
) -> None:
    from shots import check_texts, save_screenshot

    from fieldrep.ui.language import apply_language

    apply_language(qapp, lang)
    try:
        dialog = open_route_pack(qtbot, main_window)
        dialog.resize(900, 1000)
        qtbot.waitUntil(lambda: has_ink(dialog.view.grab().toImage()), timeout=30_000)
        QApplication.processEvents()
        save_screenshot(dialog, f"print_preview_{lang}")
        assert not check_texts(dialog, lang)
        dialog.close()
    finally:
        apply_language(qapp, "zh_CN")


def print_from_menu(qtbot: QtBot, owner: QWidget, action_name: str) -> PrintPreviewDialog:
    """Open the window's Print menu and choose a printout; wait for its pages."""
    button = owner.findChild(PrintMenuButton)
    assert button is not None and button.isVisible()
    button.fill_menu()
    actions = {action.objectName(): action for action in button.menu_.actions()}
    assert action_name in actions, sorted(actions)
    before = set(owner.findChildren(PrintPreviewDialog))
    actions[action_name].trigger()
    [dialog] = set(owner.findChildren(PrintPreviewDialog)) - before
    if dialog.pdf is None:
        with qtbot.waitSignal(dialog.ready, timeout=60_000):
            pass
    assert dialog.document.pageCount() > 0
    return dialog


def test_print_from_the_dealer_card_and_the_visit_record(
    qtbot: QtBot, main_window: MainWindow
) -> None:
    from sqlalchemy import select

    from fieldrep.storage.enums import RecordStatus
    from fieldrep.storage.models import ContactRecord
    from fieldrep.ui.views.dealer_card import DealerCardWindow
    from fieldrep.ui.views.visit_record import VisitRecordWindow

    assert main_window.services is not None
    with main_window.services.store.read() as session:
        record_id, dealer_id = session.execute(
            select(ContactRecord.id, ContactRecord.dealer_id)
            .where(ContactRecord.status == RecordStatus.FINAL)
            .limit(1)
        ).one()

    main_window.open_record("dealer", dealer_id)
    card = main_window.findChild(DealerCardWindow)
    assert card is not None
    for name in ("print_card", "print_brief"):
        dialog = print_from_menu(qtbot, card, name)
        dialog.close()
    card.close()

    main_window.open_record("visit", record_id)
    qtbot.waitUntil(lambda: main_window.findChild(VisitRecordWindow) is not None)
    visit = main_window.findChild(VisitRecordWindow)
    assert visit is not None
    qtbot.waitUntil(lambda: visit.context is not None)
    dialog = print_from_menu(qtbot, visit, "print_visit")
    dialog.close()
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    visit.close()
