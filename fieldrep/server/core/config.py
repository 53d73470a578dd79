"""Server settings, declared once with defaults; environment variables override them."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from fieldrep import paths

ENV_PREFIX = "FIELDREP_SERVER_"


def default_database_url() -> str:
    """The SQLite file in the user's data folder."""
    return sqlite_url(paths.data_dir() / "server.db")


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def normalise_database_url(url: str) -> str:
    """Accept a path or a URL; plain ``postgresql://`` URLs use psycopg 3."""
    if "://" not in url:
        return sqlite_url(Path(url).expanduser().resolve())
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+pysqlite://" + url.split("://", 1)[1]
    return url


class Settings(BaseModel):
    """Everything the server can be configured with."""

    database_url: str = Field(default_factory=default_database_url)
    #: The token signing secret; when unset, a random one is kept in the database.
    secret: str | None = None
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    # argon2id cost: the library defaults (RFC 9106 low-memory); tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    #: How many change numbers each stream keeps in its log when pruned.
    log_retention_changes: int = Field(default=1_000_000, ge=1)
    #: Minutes between the running server's own log prunings (0: only `prune-log`).
    log_prune_interval_minutes: float = Field(default=60.0, ge=0)
    # Failed sign-ins: this many within the window lock a user name on one address
    # (the address alone at the second limit); each lock doubles the one before.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_lockout_seconds: int = Field(default=60, ge=1)
    login_lockout_max_seconds: int = Field(default=3600, ge=1)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from FIELDREP_SERVER_* variables, then explicit overrides."""
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is not None:
                values[name] = raw
        values.update({key: value for key, value in overrides.items() if value is not None})
        settings = cls.model_validate(values)
        settings.database_url = normalise_database_url(settings.database_url)
        return settings
