"""One FieldRep window per profile: a second start raises the first one instead.

A :class:`QLockFile` in the data folder says a FieldRep GUI owns the profile (two
processes writing drafts and syncing the same database would trip over each
other). The owner listens on a :class:`QLocalServer` whose name is derived from
the data folder; a second start connects, asks the first to come to the front,
and exits. A stale lock left by a crash is taken over (QLockFile checks that the
process that made it is gone).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCryptographicHash, QLockFile, QObject, Signal

from fieldrep.paths import data_dir
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer

log = logging.getLogger("fieldrep.ui")

LOCK_FILE_NAME = "fieldrep-gui.lock"
RAISE_MESSAGE = b"raise\n"
CONNECT_TIMEOUT_MS = 1000


def server_name(folder: Path) -> str:
    """The local socket name of the GUI owning ``folder`` (short: sockets have a length limit)."""
    digest = QCryptographicHash.hash(
        str(folder.resolve()).encode("utf-8"), QCryptographicHash.Algorithm.Sha256
    )
    return f"fieldrep-{bytes(digest.toHex().data()).decode('ascii')[:16]}"


class InstanceGuard(QObject):
    """Holds the profile lock and answers later starts that want the window raised."""

    raise_requested = Signal()

    def __init__(self, folder: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder or data_dir()
        self._lock = QLockFile(str(self.folder / LOCK_FILE_NAME))
        self._lock.setStaleLockTime(0)  # stale only when the owning process is gone
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """Take the profile; False when another FieldRep window has it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self._lock.tryLock(100):
            log.info("profile %s is in use (%s)", self.folder, self._lock.error())
            return False
        return True

    def listen(self) -> None:
        """Answer later starts (call once the window is up: it loads QtNetwork)."""
        from PySide6.QtNetwork import QLocalServer

        if not self._lock.isLocked() or self._server is not None:
            return
        name = server_name(self.folder)
        QLocalServer.removeServer(name)  # left behind by a crash
        server = QLocalServer(self)
        if not server.listen(name):
            log.warning("cannot listen on %s: %s", name, server.errorString())
        server.newConnection.connect(self._on_connection)
        self._server = server

    def release(self) -> None:
        """Give the profile up (at exit)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    def ask_first_to_raise(self) -> bool:
        """From a second start: ask the running window to come to the front."""
        from PySide6.QtNetwork import QLocalSocket

        socket = QLocalSocket()
        socket.connectToServer(server_name(self.folder))
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        socket.write(RAISE_MESSAGE)
        done = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return done

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            # The second start writes its request right after connecting: a short
            # wait here is all it takes, and it happens only when someone asks.
            if socket.bytesAvailable() or socket.waitForReadyRead(CONNECT_TIMEOUT_MS):
                data = bytes(socket.readAll().data())
                if RAISE_MESSAGE.strip() in data:
                    emit(self.raise_requested)
            socket.abort()
            socket.deleteLater()
