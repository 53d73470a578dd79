"""The full-text and pinyin search index over dealers (owned by fieldrep.storage.search).

- search_doc: one document per live dealer (external content of search_fts).
- search_fts: FTS5 over search_doc; CJK characters are single tokens, pinyin,
  words and phone digits are searched by prefix (prefix indexes 1-3); the
  territory is a token of the scope column, so a territory filter is part of
  the full-text match.
- search_source: the view that makes a dealer's document from its row and its
  live contacts, through the SQL function fr_search_column (registered on every
  connection by fieldrep.storage.search).
- search_refresh: a view whose INSTEAD OF INSERT trigger recomputes one dealer's
  document; the dealer and contact triggers (all named search_*) insert into it.

The SQL is frozen here: a later change of the document makes a new migration
that replaces the view and rebuilds the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("head", "name", "name_py", "place", "people", "other_py", "phone", "notes", "scope")
_COLUMN_LIST = ", ".join(COLUMNS)

# The unary + keeps SQLite from reading all dealers through an index on
# dealer.deleted: a rebuild scans the table, a trigger looks the dealer up by id.
# Contacts packed into one argument with char(31) between values; the index on
# contact.dealer_id makes each subquery a short range scan.
_CONTACT_NAMES = (
    "(SELECT group_concat(c.name, char(31)) FROM contact AS c"
    " WHERE c.dealer_id = d.id AND c.deleted = 0)"
)
_CONTACT_PHONES = (
    "(SELECT group_concat(coalesce(c.phone, '') || char(31) || coalesce(c.mobile, ''),"
    " char(31)) FROM contact AS c WHERE c.dealer_id = d.id AND c.deleted = 0)"
)

SCHEMA = (
    """
    CREATE TABLE search_doc (
        docid INTEGER PRIMARY KEY,
        dealer_id TEXT NOT NULL UNIQUE,
        head TEXT NOT NULL,
        name TEXT NOT NULL,
        name_py TEXT NOT NULL,
        place TEXT NOT NULL,
        people TEXT NOT NULL,
        other_py TEXT NOT NULL,
        phone TEXT NOT NULL,
        notes TEXT NOT NULL,
        scope TEXT NOT NULL
    )
    """,
    f"""
    CREATE VIRTUAL TABLE search_fts USING fts5(
        {_COLUMN_LIST},
        content = 'search_doc',
        content_rowid = 'docid',
        tokenize = "unicode61 remove_diacritics 0 tokenchars '\ue000'",
        prefix = '1 2 3'
    )
    """,
    f"""
    CREATE VIEW search_source AS
    SELECT
        d.id AS dealer_id,
        fr_search_column('head', d.name, d.short_name) AS head,
        fr_search_column('name', d.name, d.short_name) AS name,
        fr_search_column('name_py', d.name, d.short_name) AS name_py,
        fr_search_column('place', d.province, d.city, d.district, d.address) AS place,
        fr_search_column('people', d.legal_rep, {_CONTACT_NAMES}) AS people,
        fr_search_column('other_py', d.city, d.district, d.legal_rep, {_CONTACT_NAMES})
            AS other_py,
        fr_search_column('phone', d.phone, {_CONTACT_PHONES}) AS phone,
        fr_search_column('notes', d.notes) AS notes,
        fr_search_column('scope', d.territory_id) AS scope
    FROM dealer AS d
    WHERE +d.deleted = 0
    """,
    "CREATE VIEW search_refresh AS SELECT NULL AS dealer_id WHERE 0",
    f"""
    CREATE TRIGGER search_refresh_apply INSTEAD OF INSERT ON search_refresh
    BEGIN
        INSERT INTO search_fts (search_fts, rowid, {_COLUMN_LIST})
            SELECT 'delete', docid, {_COLUMN_LIST} FROM search_doc
            WHERE dealer_id = NEW.dealer_id;
        DELETE FROM search_doc WHERE dealer_id = NEW.dealer_id;
        INSERT INTO search_doc (dealer_id, {_COLUMN_LIST})
            SELECT dealer_id, {_COLUMN_LIST} FROM search_source
            WHERE dealer_id = NEW.dealer_id;
        INSERT INTO search_fts (rowid, {_COLUMN_LIST})
            SELECT docid, {_COLUMN_LIST} FROM search_doc WHERE dealer_id = NEW.dealer_id;
    END
    """,
    """
    CREATE TRIGGER search_dealer_insert AFTER INSERT ON dealer
    BEGIN
        INSERT INTO search_refresh (dealer_id) VALUES (NEW.id);
    END
    """,
    """
    CREATE TRIGGER search_dealer_update AFTER UPDATE OF
        id, territory_id, deleted, name, short_name, province, city, district, address,
        phone, legal_rep, notes
    ON dealer
    BEGIN
        INSERT INTO search_refresh (dealer_id) SELECT OLD.id WHERE OLD.id IS NOT NEW.id;
        INSERT INTO search_refresh (dealer_id) VALUES (NEW.id);
    END
    """,
    """
    CREATE TRIGGER search_dealer_delete AFTER DELETE ON dealer
    BEGIN
        INSERT INTO search_refresh (dealer_id) VALUES (OLD.id);
    END
    """,
    """
    CREATE TRIGGER search_contact_insert AFTER INSERT ON contact
    BEGIN
        INSERT INTO search_refresh (dealer_id) VALUES (NEW.dealer_id);
    END
    """,
    """
    CREATE TRIGGER search_contact_update AFTER UPDATE OF
        dealer_id, deleted, name, phone, mobile
    ON contact
    BEGIN
        INSERT INTO search_refresh (dealer_id)
            SELECT OLD.dealer_id WHERE OLD.dealer_id IS NOT NEW.dealer_id;
        INSERT INTO search_refresh (dealer_id) VALUES (NEW.dealer_id);
    END
    """,
    """
    CREATE TRIGGER search_contact_delete AFTER DELETE ON contact
    BEGIN
        INSERT INTO search_refresh (dealer_id) VALUES (OLD.dealer_id);
    END
    """,
)


def upgrade() -> None:
    bind = op.get_bind()
    for statement in SCHEMA:
        op.execute(statement)
    if bind.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM dealer)").scalar():
        # Dealers from before this migration: index them now. The view needs the
        # SQL function, which every FieldRep connection has; install it in case
        # this connection was made elsewhere.
        from fieldrep.storage.search import install_functions

        driver = bind.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):
            install_functions(driver)
        op.execute(
            f"INSERT INTO search_doc (dealer_id, {_COLUMN_LIST}) "
            f"SELECT dealer_id, {_COLUMN_LIST} FROM search_source"
        )
        op.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")


def downgrade() -> None:
    for trigger in (
        "search_contact_delete",
        "search_contact_update",
        "search_contact_insert",
        "search_dealer_delete",
        "search_dealer_update",
        "search_dealer_insert",
        "search_refresh_apply",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP VIEW IF EXISTS search_refresh")
    op.execute("DROP VIEW IF EXISTS search_source")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP TABLE IF EXISTS search_doc")
