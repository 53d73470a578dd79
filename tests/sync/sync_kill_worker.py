"""A syncing client run as a subprocess by test_sync_kill.py, to be SIGKILLed.

It edits and syncs in a loop and prints a line at every step, so the parent can
kill it at many different moments. Tokens come from a file-backed test keyring.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    """Test-only keyring shared between processes through a JSON file."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        return dict(json.loads(self.path.read_text(encoding="utf-8")))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\x1f{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\x1f{username}"] = password
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(self.path)  # atomic: a kill never leaves half a file

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\x1f{username}", None)
        self.path.write_text(json.dumps(data), encoding="utf-8")


def main(db_path: str, keyring_path: str, label: str) -> None:
    from tenacity import wait_none

    from fieldrep.storage.db import open_database
    from fieldrep.storage.enums import AbcClass
    from fieldrep.storage.models import Dealer
    from fieldrep.storage.services import core
    from fieldrep.storage.services.core import Store
    from fieldrep.sync import api
    from fieldrep.sync.engine import SyncEngine

    keyring.set_keyring(FileKeyring(Path(keyring_path)))
    engine = open_database(db_path)
    store = Store(engine, api.user_context(engine))
    sync = SyncEngine(db_path, wait=wait_none(), max_attempts=3, push_batch_size=7)

    def say(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    say("ready")
    for round_no in range(1000):
        for item in range(5):
            record = core.create(
                store, Dealer, {"name": f"{label}-{round_no}-{item}", "abc_class": AbcClass.B}
            )
            core.update(store, Dealer, record.id, {"city": f"城市{round_no}"})
            say("edit")
        sync.sync(lambda stage, done, total: say(f"{stage} {done}/{total}"))
        say("synced")


if __name__ == "__main__":
    main(*sys.argv[1:4])
