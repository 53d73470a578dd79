"""Fixtures of the printout tests: a dealer history in a fresh database, PDF inspection."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reports_dataset import DatasetIds, build
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser, Territory
from fieldrep.storage.types import new_id

POPPLER_TOOLS = ("pdftotext", "pdffonts", "pdfinfo", "pdftoppm")


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DatasetIds]:
    """The dataset built once in a migrated database file; tests get a copy.

    Printing only reads, so every test can start from the same file: copying it
    is much faster than migrating and filling a database per test.
    """
    path = tmp_path_factory.mktemp("reports-template") / "fieldrep.db"
    engine = open_database(path)
    territory_id, user_id = new_id(), new_id()
    with Session(engine) as session, session.begin():
        session.add(Territory(id=territory_id, territory_id=territory_id, name="华东一区"))
        session.add(
            AppUser(
                id=user_id,
                territory_id=territory_id,
                username="zhangwei",
                display_name="张伟",
                role=Role.REP,
            )
        )
        session.flush()
        ids = build(session, territory_id, user_id)
    engine.dispose()  # closes the last connection: SQLite folds the WAL into the file
    return path, ids


@pytest.fixture
def engine(_template: tuple[Path, DatasetIds], tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the dataset's database (overrides the empty database fixture)."""
    copy = tmp_path / "fieldrep.db"
    shutil.copyfile(_template[0], copy)
    database = open_database(copy)
    yield database
    database.dispose()


@pytest.fixture
def dataset(_template: tuple[Path, DatasetIds], engine: Engine) -> DatasetIds:
    """Two dealers with people, visits, objections, follow-ups, figures and a report."""
    return _template[1]


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


@pytest.fixture
def as_pdf(tmp_path: Path) -> Callable[[bytes], Pdf]:
    """Turn PDF bytes into a :class:`Pdf` in the test's folder."""
    counter = iter(range(1000))

    def make(data: bytes) -> Pdf:
        return Pdf(data, tmp_path, f"document-{next(counter)}")

    return make


def assert_fonts_embedded(pdf: Pdf) -> None:
    """Every font is embedded, and none is a standard (unembedded) Type 1 font."""
    fonts = pdf.fonts()
    assert fonts, "the PDF lists no fonts"
    assert all(font["emb"] == "yes" for font in fonts), fonts
    assert not any(font["type"] == "Type" for font in fonts), fonts
    assert not any("Helvetica" in font["name"] for font in fonts), fonts
