"""Project-wide guarantees: models match migrations, layering, and the set-up commands."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fieldrep.storage.db import (
    HEAD_REVISION,
    NotAFieldRepDatabase,
    alembic_config,
    current_revision,
    head_revision,
    open_database,
)
from fieldrep.storage.migrations.env_support import include_object
from fieldrep.storage.models import Base

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fieldrep"
QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2")


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_models_match_the_migrations(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "schema.db")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": include_object, "compare_type": True},
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models and migrations differ: add or regenerate a migration"


def test_upgrade_from_empty_reaches_head(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "fresh.db")
    try:
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {table.name for table in Base.metadata.sorted_tables} <= tables
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "roundtrip.db")
    try:
        config = alembic_config(engine)
        command.downgrade(config, "base")
        assert current_revision(engine) is None
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert left == set(), f"downgrade left tables behind: {sorted(left)}"
        command.upgrade(config, "head")
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_reopening_an_existing_database_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    open_database(path).dispose()
    engine = open_database(path, create=False)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_head_revision_constant_is_the_scripts_head() -> None:
    # open_database trusts HEAD_REVISION to skip Alembic: a new migration must bump it.
    assert head_revision() == HEAD_REVISION


def test_current_revision_agrees_with_alembic(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "revision.db")
    try:
        config = alembic_config(engine)
        command.downgrade(config, "0002")
        with engine.connect() as connection:
            alembic_says = MigrationContext.configure(connection).get_current_revision()
        assert alembic_says == "0002"
        assert current_revision(engine) == alembic_says
    finally:
        engine.dispose()


def test_database_at_head_is_opened_without_alembic_or_pypinyin(tmp_path: Path) -> None:
    # Both take a tenth of a second or more to import: a database already at head
    # must open, and list dealers, without them (issue 3: first query <= 200 ms).
    path = tmp_path / "cold.db"
    open_database(path).dispose()
    script = (
        "import sys\n"
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\n"
        "from fieldrep.storage.db import open_database\n"
        "from fieldrep.storage.models import Dealer\n"
        "engine = open_database(sys.argv[1], create=False)\n"
        "with Session(engine) as session:\n"
        "    session.execute(select(Dealer.id).limit(1)).all()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'pypinyin'))\n"
        "print(','.join(heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "FIELDREP_HOME": str(tmp_path / "home")},
    )
    assert completed.stdout.strip() == ""


def test_text_file_is_not_a_fieldrep_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("客户名单\n海信电器,青岛\n" * 200, encoding="utf-8")
    with pytest.raises(NotAFieldRepDatabase):
        open_database(path)
    assert path.read_text(encoding="utf-8").startswith("客户名单"), "the file must stay untouched"


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other-app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    with pytest.raises(NotAFieldRepDatabase):
        open_database(path)
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert tables == {"invoices"}


def test_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_database(tmp_path / "absent.db", create=False)


def test_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "pragmas.db")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def test_only_the_ui_imports_qt() -> None:
    offenders = []
    for path in _sources():
        if path.is_relative_to(PACKAGE / "ui"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module in _imported_modules(tree):
            if module.split(".")[0] in QT_MODULES:
                offenders.append(f"{_relative(path)} imports {module}")
    assert offenders == []


def test_the_ui_imports_qt() -> None:
    # Guards the scan above: it must recognise the imports it forbids elsewhere.
    tree = ast.parse((PACKAGE / "ui" / "app.py").read_text(encoding="utf-8"))
    assert any(name.startswith("PySide6") for name in _imported_modules(tree))


def _is_type_checking_block(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_sqlalchemy_import(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "sqlalchemy" for alias in node.names)
    return (
        isinstance(node, ast.ImportFrom)
        and node.level == 0
        and (node.module or "").split(".")[0] == "sqlalchemy"
    )


def _sqlalchemy_imports(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import of SQLAlchemy in ``tree``, and whether it is under ``if TYPE_CHECKING:``."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom) and _is_sqlalchemy_import(node):
            found.append((node, type_only))
        if isinstance(node, ast.If) and _is_type_checking_block(node):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return found


def _sql_offences(tree: ast.AST) -> list[str]:
    """SQLAlchemy imports the UI may not have, as ``line: import`` strings.

    The UI runs no SQL (the queries live in fieldrep.storage, mostly
    fieldrep/storage/screens). It may hold the store's engine and hand it, opaquely,
    to sync and report functions, so ``Engine`` may be imported for annotations
    under ``if TYPE_CHECKING:``; nothing else from SQLAlchemy, and nothing at run time.
    """
    offences = []
    for node, type_only in _sqlalchemy_imports(tree):
        names = [alias.name for alias in node.names]
        opaque_engine = (
            type_only
            and isinstance(node, ast.ImportFrom)
            and node.module == "sqlalchemy"
            and names == ["Engine"]
        )
        if not opaque_engine:
            offences.append(f"{node.lineno}: {ast.unparse(node)}")
    return offences


def test_the_ui_imports_no_sqlalchemy() -> None:
    offenders = []
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders.extend(f"{_relative(path)}:{offence}" for offence in _sql_offences(tree))
    assert offenders == [], "move the query into fieldrep/storage (e.g. storage/screens)"


def test_the_sql_scan_tells_an_opaque_engine_from_a_query() -> None:
    # Guards the scan above: run-time imports and anything but Engine are caught.
    allowed = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import Engine\n"
    )
    assert _sql_offences(ast.parse(allowed)) == []
    for source in (
        "from sqlalchemy import Engine\n",
        "from sqlalchemy import select\n",
        "import sqlalchemy.orm\n",
        "def load():\n    from sqlalchemy.orm import Session\n",
        "if TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n",
        "if TYPE_CHECKING:\n    pass\nelse:\n    from sqlalchemy import Engine\n",
    ):
        assert len(_sql_offences(ast.parse(source))) == 1, source


def _imports_of(package: str, layers: tuple[str, ...]) -> list[str]:
    """``path imports module`` for every import of ``package`` in the given layers."""
    offenders = []
    for layer in layers:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for module in _imported_modules(tree):
                if module == package or module.startswith(package + "."):
                    offenders.append(f"{_relative(path)} imports {module}")
    return offenders


def test_storage_sync_and_reports_never_import_the_ui() -> None:
    # Layers point one way (STYLE.md): nothing below the GUI knows it, even for types.
    assert _imports_of("fieldrep.ui", ("storage", "sync", "reports")) == []


def test_storage_never_imports_the_reports() -> None:
    # Reports build on storage; data both need (the preparation checklist) lives in storage.
    assert _imports_of("fieldrep.reports", ("storage",)) == []


def _is_cli_module(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] == "cli" or (len(relative.parts) == 1 and path.stem.startswith("cli"))


def test_print_is_used_only_by_the_cli() -> None:
    offenders = []
    for path in _sources():
        if _is_cli_module(path):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                offenders.append(f"{_relative(path)}:{node.lineno}")
    assert offenders == [], "use a logger (fieldrep.logging_setup), not print()"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh run" in readme
    assert "bash scripts/setup.sh test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.startswith("#!/usr/bin/env bash")
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("bash ")]
    assert commands == ["bash scripts/setup.sh test"]
