"""PDF inspection with poppler's tools, shared by the printout tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fieldrep.i18n import translate


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install poppler-utils (scripts/setup.sh does)")
    return found


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    """Text without white space (pdftotext spaces CJK text unpredictably)."""
    return re.sub(r"\s+", "", text)


def zh(english: str) -> str:
    """The Chinese text of a label as it reads in flattened PDF text (no spaces)."""
    return translate(english, "zh_CN").replace(" ", "")


class Pdf:
    """A PDF written to disk and read back with poppler's tools."""

    def __init__(self, data: bytes, folder: Path, name: str = "document") -> None:
        assert data.startswith(b"%PDF-"), "not a PDF"
        self.path = folder / f"{name}.pdf"
        self.path.write_bytes(data)

    @property
    def text(self) -> str:
        return _run(_tool("pdftotext"), "-layout", str(self.path), "-")

    @property
    def flat_text(self) -> str:
        """The text without any white space, for finding text that wraps across lines."""
        return flat(_run(_tool("pdftotext"), str(self.path), "-"))

    @property
    def pages(self) -> int:
        info = _run(_tool("pdfinfo"), str(self.path))
        match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
        assert match is not None
        return int(match.group(1))

    def fonts(self) -> list[dict[str, str]]:
        """pdffonts rows as dicts with 'name', 'type' and 'emb'."""
        lines = _run(_tool("pdffonts"), str(self.path)).splitlines()
        rows = []
        for line in lines[2:]:
            columns = line.split()
            # name, type words..., encoding, emb, sub, uni, object, id
            rows.append({"name": columns[0], "type": columns[1], "emb": columns[-5]})
        return rows

    def page_text(self, page: int) -> str:
        return _run(
            _tool("pdftotext"), "-layout", "-f", str(page), "-l", str(page), str(self.path), "-"
        )

    def render_first_page(self) -> Path:
        """Page 1 as a small PNG (what a person would look at)."""
        prefix = self.path.with_suffix("")
        _run(
            _tool("pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "1", str(self.path), str(prefix)
        )
        pictures = sorted(self.path.parent.glob(f"{prefix.name}-*.png"))
        assert pictures, "pdftoppm wrote no page image"
        return pictures[0]


def assert_fonts_embedded(pdf: Pdf) -> None:
    """Every font is embedded, and none is a standard (unembedded) Type 1 font."""
    fonts = pdf.fonts()
    assert fonts, "the PDF lists no fonts"
    assert all(font["emb"] == "yes" for font in fonts), fonts
    assert not any(font["type"] == "Type" for font in fonts), fonts
    assert not any("Helvetica" in font["name"] for font in fonts), fonts
