"""Alembic environment: runs on the engine handed over by fieldrep.storage.db."""

from __future__ import annotations

from alembic import context

from fieldrep.storage.migrations.env_support import include_object, render_item
from fieldrep.storage.models import Base


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            render_item=render_item,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
