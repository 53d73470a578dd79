"""One window per profile: a second start raises the first and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from fieldrep.ui.single_instance import InstanceGuard


def test_second_guard_on_the_same_profile_is_refused(qtbot: QtBot, fieldrep_home: Path) -> None:
    first = InstanceGuard(fieldrep_home)
    assert first.acquire()
    first.listen()
    try:
        second = InstanceGuard(fieldrep_home)
        assert not second.acquire()
        with qtbot.waitSignal(first.raise_requested, timeout=5000):
            assert second.ask_first_to_raise()
    finally:
        first.release()
    third = InstanceGuard(fieldrep_home)
    assert third.acquire(), "the profile is free once the first window closed"
    third.release()


def test_other_profiles_are_independent(tmp_path: Path, qapp: object) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    first, second = InstanceGuard(one), InstanceGuard(two)
    assert first.acquire() and second.acquire()
    first.release()
    second.release()


def test_a_second_fieldrep_process_raises_the_first_and_exits(
    qtbot: QtBot, fieldrep_home: Path, tmp_path: Path
) -> None:
    """The real second start (run_gui in another process) while this one holds the profile."""
    first = InstanceGuard(fieldrep_home)
    assert first.acquire()
    first.listen()
    environment = {
        **os.environ,
        "FIELDREP_HOME": str(fieldrep_home),
        "QT_QPA_PLATFORM": "offscreen",
    }
    raised: list[bool] = []
    first.raise_requested.connect(lambda: raised.append(True))
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from fieldrep.ui.app import run_gui; "
                "sys.exit(run_gui(['fieldrep', '--db', sys.argv[1]]))",
                str(tmp_path / "second.db"),
            ],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        qtbot.waitUntil(lambda: process.poll() is not None, timeout=60000)
        qtbot.waitUntil(lambda: bool(raised), timeout=5000)
    finally:
        first.release()
    _out, errors = process.communicate()
    assert process.returncode == 0, errors.decode("utf-8", "replace")
    assert not (tmp_path / "second.db").exists(), "the second start never opened a database"
