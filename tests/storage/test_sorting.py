"""Dealer names in pinyin order: the stored sort key, its triggers and migration 0005."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, text

from fieldrep.storage import derived, sorting
from fieldrep.storage.db import (
    APPLICATION_ID,
    HEAD_REVISION,
    alembic_config,
    current_revision,
    open_database,
)
from fieldrep.storage.queries import DealerListFilter, dealer_list_ids, dealers
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.dealers import update_dealer
from fieldrep.sync import local

MakeDealer = Callable[..., Record]
# Code point order would be Zhang, 北京, 安, 杭州, 重庆.
NAMES = ("杭州", "Zhang", "重庆", "北京", "安")
PINYIN_ORDER = ["安", "北京", "重庆", "杭州", "Zhang"]


def _keys(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, name_sort FROM dealer"))
        return {str(name): key for name, key in rows}


def test_reading_is_pinyin_by_phrase_with_latin_words_kept() -> None:
    assert sorting.reading("重庆") == "chong qing"
    assert sorting.reading("长沙市") == "chang sha shi"
    assert sorting.reading("TCL王牌（北京）") == "tcl wang pai bei jing"
    assert sorting.reading("Ｚhang三号店") == "zhang san hao dian"
    assert sorting.name_sort_key("安") == "an\x01安"


def test_key_order_is_dictionary_order_syllable_by_syllable() -> None:
    names = ["安徽", "阿那", "安", "Anna", "阿"]
    ordered = sorted(names, key=sorting.name_sort_key)
    assert ordered == ["阿", "阿那", "安", "安徽", "Anna"]


def test_dealer_lists_sort_names_in_pinyin_order(store: Store, make_dealer: MakeDealer) -> None:
    ids = {make_dealer(name=name).id: name for name in NAMES}
    listed = dealer_list_ids(store, DealerListFilter())
    assert [ids[dealer_id] for dealer_id in listed.ids] == PINYIN_ORDER
    by_header = dealer_list_ids(store, DealerListFilter(), sort="name", descending=True)
    assert [ids[dealer_id] for dealer_id in by_header.ids] == PINYIN_ORDER[::-1]
    assert [row.name for row in dealers(store).items] == PINYIN_ORDER


def test_rename_updates_the_key_and_never_reaches_the_outbox(
    store: Store, engine: Engine, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer(name="安")
    assert _keys(engine)["安"] == "an\x01安"
    update_dealer(store, dealer.id, {"name": "重庆"})
    assert _keys(engine) == {"重庆": "chong qing\x01重庆"}
    with engine.connect() as connection:
        ops = [op for op in local.all_ops(connection) if op.row_id == dealer.id]
    assert ops and all("name_sort" not in op.fields for op in ops)
    assert any(op.fields.get("name") == "重庆" for op in ops)


def test_raw_sql_writes_keep_the_key_too(engine: Engine, make_dealer: MakeDealer) -> None:
    make_dealer(name="北京")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE dealer SET name = '杭州' WHERE name = '北京'")
    assert _keys(engine) == {"杭州": "hang zhou\x01杭州"}


def test_rebuild_fills_every_key_without_outbox_ops(
    engine: Engine, make_dealer: MakeDealer
) -> None:
    for name in NAMES:
        make_dealer(name=name)
    with engine.begin() as connection:
        before = local.pending_count(connection)
        connection.exec_driver_sql("UPDATE dealer SET name_sort = NULL")
        sorting.rebuild_name_sort(connection)
        assert local.pending_count(connection) == before
    assert _keys(engine) == {name: sorting.name_sort_key(name) for name in NAMES}


def _dealer_copies(engine: Engine, template: Record) -> list[dict[str, Any]]:
    """Full dealer rows like ``template`` (every NOT NULL column), one for each name."""
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM dealer WHERE id = :i"), {"i": template.id})
        values: dict[str, Any] = dict(row.mappings().one())
    values.pop("name_sort")
    return [
        {**values, "id": f"{template.id[:-4]}{number:04d}", "name": name}
        for number, name in enumerate(NAMES)
    ]


def _insert(connection: Connection, rows: list[dict[str, Any]]) -> None:
    columns = ", ".join(rows[0])
    marks = ", ".join(f":{column}" for column in rows[0])
    connection.execute(text(f"INSERT INTO dealer ({columns}) VALUES ({marks})"), rows)


def test_bulk_load_fills_the_keys(engine: Engine, make_dealer: MakeDealer) -> None:
    copies = _dealer_copies(engine, make_dealer(name="模板"))
    with engine.begin() as connection, derived.bulk_load(connection):
        _insert(connection, copies)
        # The triggers are suspended while the block runs.
        missing = connection.execute(text("SELECT count(*) FROM dealer WHERE name_sort IS NULL"))
        assert missing.scalar_one() == len(NAMES)
    keys = _keys(engine)
    assert all(keys[name] == sorting.name_sort_key(name) for name in NAMES)


def test_migration_0005_backfills_a_database_at_0004(
    tmp_path: Path, engine: Engine, make_dealer: MakeDealer
) -> None:
    copies = _dealer_copies(engine, make_dealer(name="模板"))
    path = tmp_path / "at0004.db"
    old = open_database(path, migrate=False)
    try:
        command.upgrade(alembic_config(old), "0004")
        assert current_revision(old) == "0004"
        with old.begin() as connection:
            connection.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
            _insert(connection, copies)
    finally:
        old.dispose()
    migrated = open_database(path)
    try:
        assert current_revision(migrated) == HEAD_REVISION == "0005"
        assert _keys(migrated) == {name: sorting.name_sort_key(name) for name in NAMES}
        with migrated.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM dealer WHERE deleted IS 0 ORDER BY name_sort, id"
            ).all()
            # The backfill is local: it queued nothing for the server.
            assert [op.row_id for op in local.all_ops(connection)] == [c["id"] for c in copies]
        assert any("COVERING INDEX ix_dealer_live_name_sort" in str(step[-1]) for step in plan)
        assert not any("TEMP B-TREE" in str(step[-1]) for step in plan)
    finally:
        migrated.dispose()
