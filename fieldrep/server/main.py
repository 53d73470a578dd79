"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from fieldrep.server.api.deps import AppState
from fieldrep.server.api.main import api_router
from fieldrep.server.api.routes import health
from fieldrep.server.core.config import Settings
from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.core.errors import install_error_handlers
from fieldrep.server.core.logging import AccessLogMiddleware
from fieldrep.server.core.security import Passwords
from fieldrep.server.services.admin import initialise
from fieldrep.server.services.auth import AuthService
from fieldrep.server.services.maintenance import LogPruner
from fieldrep.sync.protocol import PROTOCOL_MAX

API_VERSION = f"1.{PROTOCOL_MAX}"


def operation_id(route: APIRoute) -> str:
    """Stable OpenAPI operation ids: the route function's name."""
    return route.name


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """The server app on ``database`` (or the one of ``settings``), migrated and initialised."""
    settings = settings or Settings.from_env()
    owns_database = database is None
    database = database or open_server_database(settings.database_url)
    initialise(database)
    passwords = Passwords(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )
    pruner = (
        LogPruner(
            database, settings.log_retention_changes, settings.log_prune_interval_minutes * 60
        )
        if settings.log_prune_interval_minutes > 0
        else None
    )
    state = AppState(settings, database, AuthService(database, settings, passwords), pruner)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if state.pruner is not None:
            state.pruner.start()
        try:
            yield
        finally:
            if state.pruner is not None:
                await state.pruner.stop()
            if owns_database:
                state.database.dispose()

    app = FastAPI(
        title="FieldRep sync server",
        version=API_VERSION,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    app.state.fieldrep = state
    install_error_handlers(app)
    app.add_middleware(AccessLogMiddleware)
    app.include_router(health.router)
    app.include_router(api_router)
    return app
