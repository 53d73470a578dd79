"""A small bar chart of a dealer's monthly revenue and collections, drawn with QPainter.

QtCharts would add ~160 MB (pyside6-addons) for one chart; this one needs a
paint event. Two bars per month (revenue, collected), a value axis with round
steps in yuan (万 in Chinese), month labels, and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from fieldrep.i18n import N_, _, current_language
from fieldrep.storage.screens.dealer_card import MonthPoint

REVENUE_COLOUR = QColor("#1e88e5")
COLLECTED_COLOUR = QColor("#43a047")
REVENUE_LABEL = N_("Revenue")
COLLECTED_LABEL = N_("Collected")
NO_FIGURES = N_("No monthly sales figures yet.")


def nice_step(maximum: float, steps: int = 4) -> float:
    """A round axis step (1, 2 or 5 times a power of ten) so ``steps`` steps cover ``maximum``."""
    if maximum <= 0:
        return 1.0
    raw = maximum / steps
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def axis_label(value: float) -> str:
    """An axis value: 12万 in Chinese, 120k in English."""
    if value == 0:
        return "0"
    if current_language() == "zh_CN":
        if value >= 10000:
            return f"{value / 10000:g}万"
        return f"{value:g}"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


class SalesChart(QWidget):
    """Revenue and collections per month as grouped bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sales_chart")
        self.points: tuple[MonthPoint, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(200)

    def set_points(self, points: Sequence[MonthPoint]) -> None:
        self.points = tuple(sorted(points, key=lambda point: point.month))
        self.setToolTip(self._summary())
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(520, 240)

    def minimumSizeHint(self) -> QSize:
        return QSize(280, 200)

    def _summary(self) -> str:
        lines = [
            f"{point.month:%Y-%m}  {_(REVENUE_LABEL)} {point.revenue or 0:,.0f}  "
            f"{_(COLLECTED_LABEL)} {point.collected or 0:,.0f}"
            for point in self.points
        ]
        return "\n".join(lines)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        grid_colour = palette.color(QPalette.ColorRole.Mid)
        metrics = self.fontMetrics()
        line = metrics.height()
        area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        if not self.points:
            painter.setPen(grid_colour)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, _(NO_FIGURES))
            return

        # Legend on top.
        legend_y = area.top() + line * 0.5
        x = area.left() + 4
        for colour, label in ((REVENUE_COLOUR, REVENUE_LABEL), (COLLECTED_COLOUR, COLLECTED_LABEL)):
            painter.fillRect(QRectF(x, legend_y - line * 0.35, line * 0.7, line * 0.7), colour)
            painter.setPen(text_colour)
            text = _(label)
            painter.drawText(QPointF(x + line, legend_y + line * 0.3), text)
            x += line * 2 + metrics.horizontalAdvance(text)

        values = [
            float(value)
            for point in self.points
            for value in (point.revenue, point.collected)
            if value is not None
        ]
        step = nice_step(max(values, default=0.0))
        top_value = step * max(1, math.ceil(max(values, default=0.0) / step))
        labels = [axis_label(step * index) for index in range(round(top_value / step) + 1)]
        axis_width = max(metrics.horizontalAdvance(text) for text in labels) + 8
        plot = QRectF(
            area.left() + axis_width,
            area.top() + line * 1.5,
            area.width() - axis_width - 4,
            area.height() - line * 3,
        )

        # Grid lines and value labels.
        for index, text in enumerate(labels):
            y = plot.bottom() - plot.height() * (step * index) / top_value
            painter.setPen(QPen(grid_colour, 0.5, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text_colour)
            painter.drawText(
                QRectF(area.left(), y - line / 2, axis_width - 6, line),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )

        # Bars and month labels.
        slot = plot.width() / len(self.points)
        bar = max(2.0, min(slot * 0.35, 18.0))
        label_every = max(1, math.ceil(metrics.horizontalAdvance("00-00") * 1.3 / slot))
        for index, point in enumerate(self.points):
            centre = plot.left() + slot * (index + 0.5)
            for offset, value, colour in (
                (-bar, point.revenue, REVENUE_COLOUR),
                (0.0, point.collected, COLLECTED_COLOUR),
            ):
                if value is None:
                    continue
                height = plot.height() * float(value) / top_value
                painter.fillRect(
                    QRectF(centre + offset, plot.bottom() - height, bar, height), colour
                )
            if index % label_every == 0 or index == len(self.points) - 1:
                painter.setPen(text_colour)
                text = (
                    f"{point.month:%y-%m}"
                    if point.month.month == 1 or index == 0
                    else (f"{point.month:%m}")
                )
                painter.drawText(
                    QRectF(centre - slot, plot.bottom() + 2, slot * 2, line),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    text,
                )
        painter.setPen(QPen(text_colour, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())


__all__ = ["SalesChart", "axis_label", "nice_step"]
