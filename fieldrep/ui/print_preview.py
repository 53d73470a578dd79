"""Print preview of the printouts (issue 6, "in the app"): QtPdf on reportlab's PDF bytes.

The document is rendered by :mod:`fieldrep.reports.api` on the I/O pool of the
op helper (never on the GUI thread); the dialog shows it with ``QPdfView``, prints
it through the system print dialog and exports it to a PDF file.

Printing also runs on a worker: Qt allows a QPainter on a QPrinter outside the
GUI thread, so each page is rendered by a QPdfDocument of the worker's own, at
the printer's resolution, straight into the printer's painter. Printed pages
are pictures of the PDF's pages, so the paper looks exactly like the preview.

Entry points: :func:`preview_document` (dealer card, visit record, planner,
reports) and :class:`PrintPreviewDialog` for any request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QRect, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QPageSize, QPainter, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, current_language, ngettext
from fieldrep.storage.enums import PeriodType
from fieldrep.ui.ops import Workers, user_message
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

# Pages are pictures at this resolution unless the print dialog chose another.
PRINT_DPI = 300
POINTS_PER_INCH = 72


class DocumentKind(StrEnum):
    """The printouts of fieldrep.reports."""

    VISIT_SUMMARY = "visit"
    BRIEF = "brief"
    DEALER_CARD = "card"
    ROUTE_PACK = "route"
    REPORT = "report"


TITLES = {
    DocumentKind.VISIT_SUMMARY: N_("Visit summary"),
    DocumentKind.BRIEF: N_("Pre-visit brief"),
    DocumentKind.DEALER_CARD: N_("Dealer profile card"),
    DocumentKind.ROUTE_PACK: N_("Route pack"),
    DocumentKind.REPORT: N_("Customer management report"),
}


@dataclass(frozen=True)
class DocumentRequest:
    """Which printout to make: the kind and what it is about.

    ``record_id`` is the contact record (visit summary) or the dealer (brief,
    dealer card); ``day`` the route pack's day or a day of the report's period;
    ``rep`` a rep's id for a rep's report or route pack, ``team_of`` a manager's id
    for a team report.
    """

    kind: DocumentKind
    record_id: str = ""
    plan_item_id: str | None = None
    day: date | None = None
    period: PeriodType = PeriodType.WEEK
    rep: str | None = None
    team_of: str | None = None
    territory_ids: tuple[str, ...] = field(default_factory=tuple)

    def title(self) -> str:
        """The dialog's title in the current language."""
        name = _(TITLES[self.kind])
        if self.kind is DocumentKind.ROUTE_PACK and self.day is not None:
            return _("{document} {day}").format(document=name, day=self.day.isoformat())
        if self.kind is DocumentKind.REPORT and self.day is not None:
            return _("{document} ({period} of {day})").format(
                document=name, period=self.period.label, day=self.day.isoformat()
            )
        return name

    def file_stem(self) -> str:
        """A file name for the export, without folder or suffix."""
        parts = [_(TITLES[self.kind])]
        if self.day is not None:
            parts.append(self.day.isoformat())
        return "_".join(parts).replace(" ", "_").replace("/", "-")


def render_document(engine: Engine, request: DocumentRequest, lang: str) -> bytes:
    """The PDF bytes of ``request`` in ``lang`` (worker thread; no Qt)."""
    from fieldrep.reports import api

    kind = request.kind
    if kind is DocumentKind.VISIT_SUMMARY:
        return api.render_visit_summary(engine, request.record_id, lang)
    if kind is DocumentKind.BRIEF:
        return api.render_brief(engine, request.record_id, request.plan_item_id, lang)
    if kind is DocumentKind.DEALER_CARD:
        return api.render_dealer_card(engine, request.record_id, lang)
    if kind is DocumentKind.ROUTE_PACK:
        if request.day is None:
            raise ValueError("a route pack needs a day")
        return api.render_route_pack(engine, request.day, request.rep, lang)
    if request.day is None:
        raise ValueError("a report needs a day of its period")
    if request.team_of is not None or request.territory_ids:
        return api.render_mgmt_report(
            engine,
            request.period,
            request.day,
            territory_ids=request.territory_ids,
            manager=request.team_of,
            lang=lang,
        )
    return api.render_mgmt_report(engine, request.period, request.day, rep=request.rep, lang=lang)


def failure_text(error: BaseException) -> str | None:
    """A sentence for an error the user can understand (nothing to print, gone), else None."""
    from fieldrep.reports.data import NothingToPrint
    from fieldrep.storage.errors import NotFound

    if isinstance(error, NothingToPrint):
        return _(error.reason).format(**error.params)
    if isinstance(error, NotFound):
        return _("The record to print no longer exists.")
    known = user_message(error)
    return known[0] if known is not None else None


# ----------------------------------------------------------------- printing


def new_printer() -> QPrinter:
    """A printer set up for our A4 documents at :data:`PRINT_DPI`."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setResolution(PRINT_DPI)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setFullPage(True)  # the PDF pages carry their own margins
    return printer


def choose_printer(parent: QWidget, printer: QPrinter, pages: int) -> bool:
    """The system print dialog; True when the user chose to print (tests replace it)."""
    dialog = QPrintDialog(printer, parent)
    dialog.setObjectName("print_dialog")
    dialog.setMinMax(1, max(pages, 1))
    return dialog.exec() == QDialog.DialogCode.Accepted


def choose_export_path(parent: QWidget, suggested: str) -> str | None:
    """Ask where to save the PDF; None when cancelled (tests replace it)."""
    path, _filter = QFileDialog.getSaveFileName(
        parent, _("Export PDF"), suggested, _("PDF documents (*.pdf)")
    )
    if not path:
        return None
    return path if path.lower().endswith(".pdf") else f"{path}.pdf"


def _page_numbers(printer: QPrinter, count: int) -> range:
    first, last = printer.fromPage(), printer.toPage()
    if first <= 0 or last <= 0:
        return range(count)
    return range(max(first, 1) - 1, min(last, count))


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Paint every page of ``pdf`` (or the chosen range) on ``printer``; returns pages printed.

    Runs on a worker: the QPdfDocument is the worker's own, and the painter on a
    QPrinter may be used outside the GUI thread.
    """
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    try:
        document.load(buffer)
        if document.status() != QPdfDocument.Status.Ready:
            raise RuntimeError(f"the PDF did not load: {document.error()}")
        pages = _page_numbers(printer, document.pageCount())
        resolution = printer.resolution()
        painter = QPainter()
        if not painter.begin(printer):
            raise RuntimeError("the printer could not be opened")
        try:
            for position, page in enumerate(pages):
                if position:
                    printer.newPage()
                target = painter.viewport()
                points = document.pagePointSize(page)
                size = QSize(
                    round(points.width() * resolution / POINTS_PER_INCH),
                    round(points.height() * resolution / POINTS_PER_INCH),
                ).scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
                image = document.render(page, size)
                painter.drawImage(QRect(target.topLeft(), size), image)
        finally:
            painter.end()
        return len(pages)
    finally:
        document.close()
        buffer.close()


def write_pdf_file(pdf: bytes, path: str) -> Path:
    """Save the PDF bytes (worker thread)."""
    from fieldrep.reports.api import write_pdf

    return write_pdf(pdf, path)


# ----------------------------------------------------------------- the dialog


class PrintPreviewDialog(QDialog):
    """Shows a printout while it is made, then page by page; Print and Export PDF."""

    ready = Signal()  # the pages are shown
    failed = Signal(str)  # the document could not be made: the sentence shown
    printed = Signal(int)  # pages sent to the printer
    exported = Signal(str)  # the file written

    def __init__(
        self,
        workers: Workers,
        title: Callable[[], str],
        file_stem: Callable[[], str],
        render: Callable[[], bytes],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("print_preview")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.workers = workers
        self._title = title
        self._file_stem = file_stem
        self._render = render
        self.pdf: bytes | None = None
        self.busy = False

        self.document = QPdfDocument(self)
        self._buffer = QBuffer(self)
        self.view = QPdfView(self)
        self.view.setObjectName("preview_pages")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.pageNavigator().currentPageChanged.connect(lambda _page: self._show_page())

        self.message = QLabel()
        self.message.setObjectName("preview_message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.view)

        self.page_label = QLabel()
        self.page_label.setObjectName("preview_page")
        self.status = QLabel()
        self.status.setObjectName("preview_status")
        self.status.setWordWrap(True)
        self.fit_width_button = QPushButton()
        self.fit_width_button.setObjectName("preview_fit_width")
        self.fit_width_button.clicked.connect(
            lambda: self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        )
        self.fit_page_button = QPushButton()
        self.fit_page_button.setObjectName("preview_fit_page")
        self.fit_page_button.clicked.connect(
            lambda: self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        )
        self.print_button = QPushButton()
        self.print_button.setObjectName("preview_print")
        self.print_button.clicked.connect(self.print_document)
        self.export_button = QPushButton()
        self.export_button.setObjectName("preview_export")
        self.export_button.clicked.connect(self.export_document)
        self.close_button = QPushButton()
        self.close_button.setObjectName("preview_close")
        self.close_button.clicked.connect(self.close)

        bar = QHBoxLayout()
        bar.addWidget(self.fit_width_button)
        bar.addWidget(self.fit_page_button)
        bar.addWidget(self.page_label)
        bar.addStretch(1)
        bar.addWidget(self.print_button)
        bar.addWidget(self.export_button)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Print), self, self.print_document)
        self.resize(860, 980)
        self.retranslate()
        self._set_ready(False)
        self.refresh()

    # -- language

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(_("Print preview: {document}").format(document=self._title()))
        self.fit_width_button.setText(_("Fit width"))
        self.fit_page_button.setText(_("Whole page"))
        self.print_button.setText(_("Print…"))
        self.print_button.setToolTip(_("Print through the system print dialog (Ctrl+P)"))
        self.export_button.setText(_("Export PDF…"))
        self.close_button.setText(_("Close"))
        if self.pdf is None and not self.message.property("failed"):
            self.message.setText(_("Preparing the document…"))
        self._show_page()

    # -- the document

    def refresh(self) -> None:
        """Make the document again (after a language switch or a change of data)."""
        self.message.setProperty("failed", False)
        self.message.setText(_("Preparing the document…"))
        self.stack.setCurrentWidget(self.message)
        self._set_ready(False)
        self.workers.run_io(self, self._render, self._rendered, self._render_failed)

    def _rendered(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.document.close()
        self._buffer.close()
        self._buffer.setData(QByteArray(pdf))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        if self.document.status() != QPdfDocument.Status.Ready:
            self._render_failed(
                RuntimeError(f"QtPdf could not read the document: {self.document.error()}")
            )
            return
        self.stack.setCurrentWidget(self.view)
        self._set_ready(True)
        self._show_page()
        emit(self.ready)

    def _render_failed(self, error: BaseException) -> None:
        text = failure_text(error)
        if text is None:
            from fieldrep.ui.ops import unexpected_message

            text = unexpected_message(error)
        self.message.setProperty("failed", True)
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        emit(self.failed, text)

    def page_count(self) -> int:
        return self.document.pageCount() if self.pdf is not None else 0

    def _show_page(self) -> None:
        count = self.page_count()
        if not count:
            self.page_label.setText("")
            return
        current = self.view.pageNavigator().currentPage() + 1
        self.page_label.setText(
            ngettext("Page {page} of {count}", "Page {page} of {count}", count).format(
                page=current, count=count
            )
        )

    def _set_ready(self, ready: bool) -> None:
        for button in (
            self.print_button,
            self.export_button,
            self.fit_width_button,
            self.fit_page_button,
        ):
            button.setEnabled(ready and not self.busy)

    # -- print and export

    def print_document(self) -> None:
        """The system print dialog, then the pages are painted on a worker."""
        if self.pdf is None or self.busy:
            return
        printer = new_printer()
        printer.setDocName(self._title())
        if not choose_printer(self, printer, self.page_count()):
            return
        pdf = self.pdf
        self._start(_("Printing…"))
        self.workers.run_io(self, lambda: print_pdf(pdf, printer), self._printed, self._failed)
        self._printer = printer  # kept alive until the worker is done

    def _printed(self, pages: int) -> None:
        self.busy = False
        self._set_ready(True)
        self.status.setText(
            ngettext(
                "{count} page sent to the printer.", "{count} pages sent to the printer.", pages
            ).format(count=pages)
        )
        emit(self.printed, pages)

    def export_document(self) -> None:
        """Save the PDF where the user says."""
        if self.pdf is None or self.busy:
            return
        path = choose_export_path(self, f"{self._file_stem()}.pdf")
        if path is None:
            return
        pdf = self.pdf
        self._start(_("Saving…"))
        self.workers.run_io(self, lambda: write_pdf_file(pdf, path), self._exported, self._failed)

    def _exported(self, path: Path) -> None:
        self.busy = False
        self._set_ready(True)
        self.status.setText(_("Saved to {path}.").format(path=str(path)))
        emit(self.exported, str(path))

    def _start(self, text: str) -> None:
        self.busy = True
        self._set_ready(False)
        self.status.setText(text)

    def _failed(self, error: BaseException) -> None:
        self.busy = False
        self._set_ready(True)
        if isinstance(error, OSError):
            self.status.setText(
                _("Could not save the file: {reason}").format(reason=error.strerror or str(error))
            )
            return
        self.status.setText("")
        self.workers.show_failure(self, error)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.document.close()
        super().closeEvent(event)


Documents = Callable[[], Sequence[tuple[DocumentKind | str, str]]]


class PrintMenuButton(QToolButton):
    """A "Print" button whose menu lists the printouts a window can make right now.

    ``documents`` is asked when the menu opens, so a visit record saved a moment
    ago can be printed without rewiring anything. A window adds it with one line.
    """

    def __init__(self, parent: QWidget, documents: Documents) -> None:
        super().__init__(parent)
        self.setObjectName("print_menu_button")
        self.documents = documents
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.menu_ = QMenu(self)
        self.menu_.setObjectName("print_menu")
        self.menu_.aboutToShow.connect(self.fill_menu)
        self.setMenu(self.menu_)
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setText(_("Print…"))
        self.setToolTip(_("Print preview of this record's printouts"))

    def fill_menu(self) -> None:
        """The printouts available now; one disabled line when there is none yet."""
        self.menu_.clear()
        available = list(self.documents())
        for kind, record_id in available:
            document = DocumentKind(kind)
            action = self.menu_.addAction(_(TITLES[document]) + "…")
            action.setObjectName(f"print_{document.value}")
            action.triggered.connect(
                lambda _checked=False, d=document, r=record_id: self.open_preview(d, r)
            )
        if not available:
            action = self.menu_.addAction(_("Nothing to print yet: save first"))
            action.setEnabled(False)

    def open_preview(self, kind: DocumentKind, record_id: str) -> PrintPreviewDialog:
        return preview_document(self.window(), kind, record_id)


def services_for(widget: QWidget) -> AppServices:
    """The AppServices of the window that owns ``widget`` (found up the parent chain)."""
    from fieldrep.ui.services import AppServices

    current: object | None = widget
    while current is not None:
        found = getattr(current, "services", None)
        if isinstance(found, AppServices):
            return found
        parent = getattr(current, "parentWidget", None)
        current = parent() if callable(parent) else None
    raise LookupError("no window with services owns this widget")


def show_preview(
    services: AppServices, parent: QWidget, request: DocumentRequest
) -> PrintPreviewDialog:
    """Open the print preview of ``request`` (the document is made on a worker)."""
    engine = services.store.engine
    lang = current_language()

    def render() -> bytes:
        return render_document(engine, request, lang)

    dialog = PrintPreviewDialog(services.workers, request.title, request.file_stem, render, parent)
    dialog.show()
    return dialog


def preview_document(
    parent: QWidget, kind: DocumentKind | str, record_id: str, **options: object
) -> PrintPreviewDialog:
    """Print preview of a printout about ``record_id`` from any window with services.

    ``kind`` is ``visit`` (contact record id), ``brief`` or ``card`` (dealer id),
    ``route`` (an ISO day; the rep's own route) or ``report`` (an ISO day of the
    week; ``period=PeriodType.MONTH`` for a month). Other options go to
    :class:`DocumentRequest`.
    """
    services = services_for(parent)
    kind = DocumentKind(kind)
    if kind in (DocumentKind.ROUTE_PACK, DocumentKind.REPORT):
        options.setdefault("rep", services.store.user.user_id)
        request = DocumentRequest(kind, day=date.fromisoformat(record_id), **options)  # type: ignore[arg-type]
    else:
        request = DocumentRequest(kind, record_id=record_id, **options)  # type: ignore[arg-type]
    return show_preview(services, parent, request)


__all__ = [
    "DocumentKind",
    "DocumentRequest",
    "PrintMenuButton",
    "PrintPreviewDialog",
    "choose_export_path",
    "choose_printer",
    "new_printer",
    "preview_document",
    "print_pdf",
    "render_document",
    "services_for",
    "show_preview",
]
