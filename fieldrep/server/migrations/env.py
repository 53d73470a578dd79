"""Alembic environment of the server: runs on the engine handed over by core.db."""

from __future__ import annotations

from alembic import context

from fieldrep.server.core.db import VERSION_TABLE
from fieldrep.server.models import Base


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
