"""A small read-only table model for short lists (Today's plan, due dealers ...).

Rows are plain frozen dataclasses; columns say how to show them. For long lists
use a lazily fetched model like the dealer list's instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from fieldrep.i18n import _
from fieldrep.ui.qtcompat import emit

ModelIndex = QModelIndex | QPersistentModelIndex
ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 2
# Roles and alignment as plain ints, made once: data() runs for every role of every
# cell painted or measured, and combining two Qt flags (a | b) makes PySide6 build
# a new enum member each time, tens of microseconds a call.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class RowColumn:
    """How one column shows a row: its title (English, marked) and its text."""

    title: str
    text: Callable[[Any], str]
    width: int | None = None  # a fixed starting width (long texts elide); None: fit contents
    align_right: bool = False
    colour: Callable[[Any], QColor | None] | None = None
    tooltip: Callable[[Any], str | None] | None = None
    stretch: bool = False  # takes the width left over


class RowsModel(QAbstractTableModel):
    """Holds a short sequence of rows and shows them through :class:`RowColumn` specs."""

    def __init__(self, columns: Sequence[RowColumn], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: tuple[Any, ...] = ()

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def row(self, position: int) -> Any:
        return self._rows[position]

    def rows(self) -> tuple[Any, ...]:
        return self._rows

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return _(self.columns[section].title)
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == _DISPLAY:
            return column.text(row)
        if role == ROW_ROLE:
            return row
        if role == _ALIGNMENT and column.align_right:
            return _RIGHT
        if role == _FOREGROUND and column.colour is not None:
            colour = column.colour(row)
            return QBrush(colour) if colour is not None else None
        if role == _TOOLTIP and column.tooltip is not None:
            return column.tooltip(row)
        return None

    def retranslate(self) -> None:
        emit(self.headerDataChanged, Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self._rows:
            emit(
                self.dataChanged,
                self.index(0, 0),
                self.index(len(self._rows) - 1, len(self.columns) - 1),
            )
