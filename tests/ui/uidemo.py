"""The demo database the GUI tests share (built once per session, copied per test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fieldrep.storage.demo import DemoSummary


@dataclass(frozen=True)
class Demo:
    path: Path
    summary: DemoSummary
