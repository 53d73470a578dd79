"""The printed form: A4 pages, header and footer, and the building blocks of every document.

All documents share one look: a title block, navy section bands, two-column
key-value tables with a light grid, data tables whose header row repeats on every
page, and long texts that wrap and flow onto further pages. Everything is set in
the bundled CJK font (see :mod:`fieldrep.reports.fonts`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from fieldrep.i18n import _
from fieldrep.reports.fonts import ensure_font
from fieldrep.reports.formatting import format_datetime

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT_MARGIN = RIGHT_MARGIN = 16 * mm
TOP_MARGIN = 22 * mm
BOTTOM_MARGIN = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - LEFT_MARGIN - RIGHT_MARGIN

NAVY = colors.HexColor("#1F3A5F")
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#6B7280")
GRID = colors.HexColor("#B8C2CC")
LABEL_FILL = colors.HexColor("#EEF2F6")
HEADER_FILL = colors.HexColor("#DCE5EF")
STRIPE_FILL = colors.HexColor("#F8FAFC")
WARNING_INK = colors.HexColor("#8A1C1C")
WARNING_FILL = colors.HexColor("#FCEDEA")

# Room (points) a section or subsection heading needs below it, else it starts a new page.
SECTION_ROOM = 32 * mm
SUBSECTION_ROOM = 20 * mm
# Values longer than this take a whole row of a key-value table.
WIDE_VALUE_CHARS = 28


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of every document, all in the embedded CJK font."""

    font: str
    title: ParagraphStyle
    subtitle: ParagraphStyle
    section: ParagraphStyle
    subsection: ParagraphStyle
    body: ParagraphStyle
    label: ParagraphStyle
    value: ParagraphStyle
    cell: ParagraphStyle
    head_cell: ParagraphStyle
    muted: ParagraphStyle
    warning: ParagraphStyle
    callout: ParagraphStyle
    caption: ParagraphStyle
    cover_title: ParagraphStyle


@cache
def styles() -> Styles:
    """The shared styles (made once; the font is registered on first use)."""
    font = ensure_font()

    def style(name: str, size: float, leading: float, **extra: Any) -> ParagraphStyle:
        extra.setdefault("textColor", INK)
        return ParagraphStyle(
            name,
            fontName=font,
            bulletFontName=font,
            fontSize=size,
            leading=leading,
            # reportlab's default wrapping splits runs of Chinese where they meet
            # the margin and keeps English words whole; its "CJK" mode cuts
            # English words in half (labels in English documents).
            **extra,
        )

    return Styles(
        font=font,
        title=style("title", 17, 22, alignment=TA_CENTER, textColor=NAVY, spaceAfter=2),
        subtitle=style("subtitle", 9, 13, alignment=TA_CENTER, textColor=MUTED, spaceAfter=8),
        section=style("section", 10.5, 14, textColor=colors.white),
        subsection=style("subsection", 9.5, 13, textColor=NAVY, spaceBefore=6, spaceAfter=2),
        body=style("body", 9.5, 14.5, spaceAfter=3),
        label=style("label", 8.5, 11.5, textColor=colors.HexColor("#374151")),
        value=style("value", 9, 12.5),
        cell=style("cell", 8.5, 11.5),
        head_cell=style("head_cell", 8.5, 11.5, textColor=NAVY),
        muted=style("muted", 8.5, 12, textColor=MUTED, spaceAfter=2),
        warning=style(
            "warning",
            9,
            13,
            textColor=WARNING_INK,
            backColor=WARNING_FILL,
            borderPadding=(3, 4, 3, 4),
            leftIndent=4,
            rightIndent=4,
            spaceBefore=4,
            spaceAfter=6,
        ),
        callout=style(
            "callout",
            9,
            13,
            textColor=NAVY,
            backColor=LABEL_FILL,
            borderPadding=(3, 4, 3, 4),
            leftIndent=4,
            rightIndent=4,
            spaceBefore=4,
            spaceAfter=6,
        ),
        caption=style("caption", 8.5, 11.5, textColor=MUTED, spaceBefore=3, spaceAfter=1),
        cover_title=style(
            "cover_title", 26, 34, alignment=TA_CENTER, textColor=NAVY, spaceBefore=40
        ),
    )


def text(value: str, style: ParagraphStyle | None = None) -> Paragraph:
    """A paragraph of plain text (escaped, line breaks kept)."""
    markup = escape(value.strip()).replace("\n", "<br/>")
    return Paragraph(markup, style or styles().value)


def cell(value: str, style: ParagraphStyle, width: float) -> str | Paragraph:
    """A table cell: plain text when it fits on one line, else a paragraph that wraps.

    Plain text is drawn by the table itself in the style set on the table, and is
    many times cheaper than a paragraph: it keeps a route pack of 30 briefs fast.
    """
    value = value.strip()
    if "\n" not in value and stringWidth(value, style.fontName, style.fontSize) <= width:
        return value
    return text(value, style)


def _cell_style(
    style: ParagraphStyle, top_left: tuple[int, int], bottom_right: tuple[int, int]
) -> list[tuple[Any, ...]]:
    """Table commands that draw plain-text cells like paragraphs in ``style``."""
    return [
        ("FONTNAME", top_left, bottom_right, style.fontName),
        ("FONTSIZE", top_left, bottom_right, style.fontSize),
        ("LEADING", top_left, bottom_right, style.leading),
        ("TEXTCOLOR", top_left, bottom_right, style.textColor),
    ]


@dataclass(frozen=True)
class DocumentMeta:
    """What the header and footer of every page show."""

    title: str
    rep_name: str
    printed_at: datetime
    subject: str = ""
    # Who the person in the header is, e.g. "Manager" on a team report.
    person_role: str = ""


class HeaderTitle(Flowable):  # type: ignore[misc]
    """Invisible marker: from this page on the header shows ``title`` (route pack).

    With ``outline`` it also adds a PDF bookmark so a viewer can jump to it.
    """

    def __init__(self, title: str, outline: bool = False) -> None:
        super().__init__()
        self.title = title
        self.outline = outline
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        if self.outline:
            key = f"section-{id(self)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(self.title, key, level=0)


class FormDocument(BaseDocTemplate):  # type: ignore[misc]
    """A4 document whose pages carry the title, rep, print date and page x of y."""

    def __init__(self, output: io.BytesIO, meta: DocumentMeta) -> None:
        self.meta = meta
        self.header_title = meta.title
        font = styles().font
        super().__init__(
            output,
            pagesize=A4,
            leftMargin=LEFT_MARGIN,
            rightMargin=RIGHT_MARGIN,
            topMargin=TOP_MARGIN,
            bottomMargin=BOTTOM_MARGIN,
            title=meta.title,
            author=meta.rep_name,
            subject=meta.subject,
            creator="FieldRep",
            # Without this the canvas starts in Helvetica, which is then listed
            # (unembedded) in the PDF even though no text uses it.
            initialFontName=font,
            initialFontSize=9,
        )
        frame = Frame(
            LEFT_MARGIN,
            BOTTOM_MARGIN,
            CONTENT_WIDTH,
            PAGE_HEIGHT - TOP_MARGIN - BOTTOM_MARGIN,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        self.addPageTemplates([PageTemplate(id="form", frames=[frame], onPageEnd=self._decorate)])

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab hook
        if isinstance(flowable, HeaderTitle):
            self.header_title = flowable.title

    def _decorate(self, canvas: Canvas, _doc: BaseDocTemplate) -> None:
        """Header and footer of one page (the page count is added when the PDF is saved)."""
        font = styles().font
        canvas.saveState()
        top = PAGE_HEIGHT - TOP_MARGIN + 8 * mm
        canvas.setFont(font, 8.5)
        canvas.setFillColor(NAVY)
        canvas.drawString(LEFT_MARGIN, top, self.header_title)
        if self.meta.rep_name:
            canvas.setFillColor(MUTED)
            canvas.drawRightString(
                PAGE_WIDTH - RIGHT_MARGIN,
                top,
                _("{role}: {name}").format(
                    role=self.meta.person_role or _("Rep"), name=self.meta.rep_name
                ),
            )
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.6)
        canvas.line(LEFT_MARGIN, top - 2.5 * mm, PAGE_WIDTH - RIGHT_MARGIN, top - 2.5 * mm)
        bottom = BOTTOM_MARGIN - 9 * mm
        canvas.line(LEFT_MARGIN, bottom + 4 * mm, PAGE_WIDTH - RIGHT_MARGIN, bottom + 4 * mm)
        canvas.setFillColor(MUTED)
        canvas.setFont(font, 8)
        canvas.drawString(
            LEFT_MARGIN,
            bottom,
            _("Printed {when}").format(when=format_datetime(self.meta.printed_at)),
        )
        canvas.drawCentredString(PAGE_WIDTH / 2, bottom, "FieldRep")
        canvas.restoreState()


def _numbered_canvas(font: str, page_label: Callable[[int, int], str]) -> type[Canvas]:
    """A canvas that holds every page back until the end to print 'page x of y'."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's method name
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held_pages)
            for state in self._held_pages:
                self.__dict__.update(state)
                self.saveState()
                self.setFont(font, 8)
                self.setFillColor(MUTED)
                self.drawRightString(
                    PAGE_WIDTH - RIGHT_MARGIN,
                    BOTTOM_MARGIN - 9 * mm,
                    page_label(self._pageNumber, total),
                )
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas


def build_pdf(meta: DocumentMeta, story: list[Flowable]) -> bytes:
    """Lay out ``story`` on A4 form pages and return the PDF bytes."""
    font = styles().font
    page_format = _("Page {page} of {pages}")
    output = io.BytesIO()
    document = FormDocument(output, meta)
    document.build(
        story,
        canvasmaker=_numbered_canvas(
            font, lambda page, pages: page_format.format(page=page, pages=pages)
        ),
    )
    return output.getvalue()


# --- building blocks -------------------------------------------------------------


def title_block(title: str, subtitle: str = "") -> list[Flowable]:
    """The document title centred at the top of the first page."""
    parts: list[Flowable] = [text(title, styles().title)]
    if subtitle:
        parts.append(text(subtitle, styles().subtitle))
    else:
        parts.append(Spacer(1, 6))
    return parts


def _band(title: str) -> Flowable:
    return Table(
        [[text(title, styles().section)]],
        colWidths=[CONTENT_WIDTH],
        style=TableStyle(
            [
                # Every table names its font: a cell's default is Helvetica.
                ("FONTNAME", (0, 0), (-1, -1), styles().font),
                ("BACKGROUND", (0, 0), (-1, -1), NAVY),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ]
        ),
        spaceBefore=9,
        spaceAfter=5,
    )


def section(title: str) -> list[Flowable]:
    """A navy band that starts a section, moved to the next page when too little room is left.

    A conditional page break rather than keep-with-next: keeping the band with a
    long table would push the whole table to a new page and leave a gap.
    """
    return [CondPageBreak(SECTION_ROOM), _band(title)]


def short_section(title: str, content: list[Flowable]) -> Flowable:
    """A section small enough to keep whole on one page (a checklist, signatures)."""
    return KeepTogether([_band(title), *content])


def subsection(title: str) -> list[Flowable]:
    """A small heading inside a section, kept off the foot of a page."""
    return [CondPageBreak(SUBSECTION_ROOM), text(title, styles().subsection)]


def note(message: str) -> Flowable:
    """A muted line, e.g. 'nothing recorded'."""
    return text(message, styles().muted)


def warning(message: str) -> Flowable:
    """A highlighted line for something the rep must act on (e.g. no senior contact)."""
    return text(message, styles().warning)


Field = tuple[str, str]


def present(fields: Iterable[tuple[str, str | None]]) -> list[Field]:
    """Only the fields that have a value: empty optional fields are left out."""
    return [(label, value.strip()) for label, value in fields if value and value.strip()]


def key_value_table(fields: Sequence[tuple[str, str | None]]) -> list[Flowable]:
    """Labels and values two to a row; long values take a whole row.

    Returns an empty list when no field has a value, so the block is left out.
    """
    shown = present(fields)
    if not shown:
        return []
    st = styles()
    label_width = CONTENT_WIDTH * 0.17
    value_width = CONTENT_WIDTH * 0.33
    inner = 8  # left and right padding of a cell
    wide_width = label_width + 2 * value_width - inner

    def label_cell(label: str) -> str | Paragraph:
        return cell(label, st.label, label_width - inner)

    def value_cell(value: str, width: float = value_width - inner) -> str | Paragraph:
        return cell(value, st.value, width)

    rows: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = []
    pending: Field | None = None

    def flush_pending() -> None:
        nonlocal pending
        if pending is not None:
            rows.append([label_cell(pending[0]), value_cell(pending[1], wide_width), "", ""])
            commands.append(("SPAN", (1, len(rows) - 1), (3, len(rows) - 1)))
            pending = None

    for label, value in shown:
        wide = len(value) > WIDE_VALUE_CHARS or "\n" in value
        if wide:
            flush_pending()
            rows.append([label_cell(label), value_cell(value, wide_width), "", ""])
            commands.append(("SPAN", (1, len(rows) - 1), (3, len(rows) - 1)))
        elif pending is None:
            pending = (label, value)
        else:
            rows.append(
                [
                    label_cell(pending[0]),
                    value_cell(pending[1]),
                    label_cell(label),
                    value_cell(value),
                ]
            )
            pending = None
    flush_pending()
    table = Table(
        rows,
        colWidths=[label_width, value_width, label_width, value_width],
        splitInRow=1,
        style=TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                ("BACKGROUND", (2, 0), (2, -1), LABEL_FILL),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *_cell_style(st.value, (0, 0), (-1, -1)),
                *_cell_style(st.label, (0, 0), (0, -1)),
                *_cell_style(st.label, (2, 0), (2, -1)),
                *commands,
            ]
        ),
        spaceAfter=4,
    )
    # A label cell whose value spans the row must not keep its own fill on the
    # spanned (blank) third column.
    for command in commands:
        row = command[1][1]
        table.setStyle(TableStyle([("BACKGROUND", (2, row), (2, row), colors.white)]))
    return [table]


def data_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    numeric: Sequence[int] = (),
) -> Flowable:
    """A grid with a header row repeated on every page; cells wrap their text.

    ``widths`` are relative (they are scaled to the page width); the ``numeric``
    columns are aligned right.
    """
    st = styles()
    total = sum(widths)
    col_widths = [CONTENT_WIDTH * width / total for width in widths]
    inner = 7  # left and right padding of a cell
    data: list[list[Any]] = [
        [
            cell(header, st.head_cell, width - inner)
            for header, width in zip(headers, col_widths, strict=True)
        ]
    ]
    data.extend(
        [cell(value, st.cell, width - inner) for value, width in zip(row, col_widths, strict=True)]
        for row in rows
    )
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
        *_cell_style(st.cell, (0, 1), (-1, -1)),
        *_cell_style(st.head_cell, (0, 0), (-1, 0)),
        *(("ALIGN", (column, 1), (column, -1), "RIGHT") for column in numeric),
    ]
    commands.extend(
        ("BACKGROUND", (0, index), (-1, index), STRIPE_FILL) for index in range(2, len(data), 2)
    )
    return Table(
        data,
        colWidths=col_widths,
        repeatRows=1,
        splitInRow=1,
        style=TableStyle(commands),
        spaceBefore=1,
        spaceAfter=5,
    )


def text_block(label: str | None, value: str | None) -> list[Flowable]:
    """A long text under its label (if any), as paragraphs that may cross pages."""
    if not value or not value.strip():
        return []
    st = styles()
    paragraphs = [text(line, st.body) for line in value.strip().splitlines() if line.strip()]
    return [*subsection(label), *paragraphs] if label else paragraphs


def bullet_list(items: Iterable[str], marker: str = "•") -> list[Flowable]:
    st = styles()
    style = ParagraphStyle("bullet", parent=st.value, leftIndent=12, bulletIndent=2, spaceAfter=2)
    return [
        Paragraph(escape(item), style, bulletText=marker) for item in items if item and item.strip()
    ]


def checklist(items: Iterable[tuple[str, bool]]) -> list[Flowable]:
    """Tick boxes in two columns: □ still to do, ■ done."""
    st = styles()
    boxes = [
        cell(f"{'■' if done else '□'}  {item}", st.value, CONTENT_WIDTH / 2 - 8)
        for item, done in items
    ]
    if not boxes:
        return []
    if len(boxes) % 2:
        boxes.append("")
    rows = [boxes[index : index + 2] for index in range(0, len(boxes), 2)]
    return [
        Table(
            rows,
            colWidths=[CONTENT_WIDTH / 2] * 2,
            style=TableStyle(
                [
                    *_cell_style(st.value, (0, 0), (-1, -1)),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            ),
        )
    ]


def signature_block(title: str, signers: Sequence[tuple[str, str]]) -> Flowable:
    """A section of signature and date lines, one row per signer (role, printed name).

    The heading and the lines stay together on one page.
    """
    st = styles()
    rows: list[list[Any]] = []
    for role, name in signers:
        rows.append(
            [
                text(role, st.label),
                text(name, st.muted) if name else "",
                text(_("Signature"), st.label),
                "",
                text(_("Date"), st.label),
                "",
            ]
        )
    widths = [0.2, 0.2, 0.12, 0.26, 0.08, 0.14]
    table = Table(
        rows,
        colWidths=[CONTENT_WIDTH * width for width in widths],
        rowHeights=[12 * mm] * len(rows),
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (3, 0), (3, -1), 0.6, INK),
                ("LINEBELOW", (5, 0), (5, -1), 0.6, INK),
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )
    return short_section(title, [table])
