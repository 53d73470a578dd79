"""Signals are emitted and disconnected only through fieldrep.ui.qtcompat.

PySide6 6.12.0 drops a reference to ``True`` on every ``emit()``/``disconnect()``
made from Python, which aborts the interpreter after a few hundred calls; the
helpers in qtcompat give the reference back. A direct call anywhere in the UI
would bring the crash back, so this test reads the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "fieldrep" / "ui"


def _direct_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("emit", "disconnect")
        ):
            found.append(f"{path.relative_to(UI.parent.parent)}:{node.lineno}")
    return found


def test_no_direct_emit_or_disconnect_outside_qtcompat() -> None:
    offenders = [
        call
        for path in sorted(UI.rglob("*.py"))
        if path.name != "qtcompat.py"
        for call in _direct_calls(path)
    ]
    assert offenders == []


def test_the_check_finds_a_direct_emit(tmp_path: Path) -> None:
    global UI
    sample = tmp_path / "fieldrep" / "ui" / "sample.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("def f(self):\n    self.changed.emit()\n", encoding="utf-8")
    saved, UI = UI, sample.parent
    try:
        assert _direct_calls(sample) == ["fieldrep/ui/sample.py:2"]
    finally:
        UI = saved
