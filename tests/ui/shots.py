"""Screenshots of the planner, conflicts, digest, reports and print preview windows.

Saved to screenshots/ (git-ignored) for a person to look at; the checks here
catch what a glance can miss: English words left in the Chinese interface and
labels narrower than their text.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QLabel, QWidget
from uitest import all_texts

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
# Words allowed in the Chinese interface: product and key names, the ABC classes,
# PDF, and the dealers' own Latin names in the demo data.
ALLOWED_LATIN = {"FieldRep", "Ctrl", "Alt", "Enter", "Delete", "Left", "Right", "Up", "Down"}
ALLOWED_LATIN |= {"ABC", "PDF", "English", "https", "F1", "F5"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Save ``widget`` as screenshots/<name>.png and return the path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(target))
    assert target.stat().st_size > 5_000
    return target


def english_words(texts: list[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        plain = re.sub(r"<[^>]+>|&\w+;", "", text)
        for word in LATIN_WORD.findall(plain):
            if word not in ALLOWED_LATIN and not re.fullmatch(r"A{1,3}|[BC]", word):
                found.add(word)
    return found


def clipped_labels(root: QWidget) -> list[str]:
    clipped = []
    for label in root.findChildren(QLabel):
        if not label.isVisibleTo(root) or label.wordWrap() or not label.text():
            continue
        if "<" in label.text() or "\n" in label.text():
            continue
        needed = label.fontMetrics().horizontalAdvance(label.text())
        if label.width() + 2 < needed:
            clipped.append(f"{label.objectName() or label.text()}: {label.width()} < {needed}")
    return clipped


def check_texts(root: QWidget, lang: str) -> list[str]:
    """Problems a screenshot would show: English in zh_CN, clipped labels."""
    problems: list[str] = []
    if lang == "zh_CN":
        words = english_words(all_texts(root))
        if words:
            problems.append(f"English words: {sorted(words)}")
    problems.extend(clipped_labels(root))
    return problems
