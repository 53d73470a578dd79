"""A dialog's OK that writes on the database worker, shared by the small record dialogs.

The dealer's child-record, complaint and credit-review dialogs and the follow-up
actions all write the same way: the buttons are off while the write runs; on
success the dialog announces the result and closes; a refusal (ValidationError)
is shown in the dialog, which stays open; any other error ends in the standard
error dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from fieldrep.storage.errors import ValidationError
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from fieldrep.ui.ops import Workers

T = TypeVar("T")


def write_and_close(
    dialog: QDialog,
    workers: Workers,
    buttons: QDialogButtonBox,
    work: Callable[[], T],
    written: SignalInstance,
    show_refusal: Callable[[ValidationError], None],
) -> None:
    """Run ``work`` on the database worker with ``buttons`` disabled.

    Success emits ``written`` with the result and accepts ``dialog``; a refusal
    goes to ``show_refusal`` with the buttons back on.
    """
    buttons.setEnabled(False)

    def succeeded(result: T) -> None:
        emit(written, result)
        dialog.accept()

    def failed(error: BaseException) -> None:
        buttons.setEnabled(True)
        if isinstance(error, ValidationError):
            show_refusal(error)
            return
        workers.show_failure(dialog, error)

    workers.run_db(dialog, work, succeeded, failed)
