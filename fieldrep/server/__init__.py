"""The central FieldRep sync server (FastAPI): the authority that orders changes.

It shares only :mod:`fieldrep.sync.protocol` with the client and has its own
storage (SQLAlchemy on SQLite or PostgreSQL) and its own Alembic migrations.
"""
