"""The server's migrations build exactly its models, and upgrade a database of 0001."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fieldrep.server.core.db import (
    VERSION_TABLE,
    Database,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from fieldrep.server.models import Base


def test_the_migrated_schema_is_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(database) == head_revision() == "0004"


def test_a_database_of_the_first_revision_is_upgraded_on_open(database: Database) -> None:
    command.downgrade(alembic_config(database), "0001")
    assert "login_throttle" not in inspect(database.engine).get_table_names()
    upgrade(database)  # what opening the database does
    assert current_revision(database) == "0004"
    assert "login_throttle" in inspect(database.engine).get_table_names()
