"""Properties of the merge over random op sequences (SYNC.md invariants 2, 8 and 9).

Random pushes from three people (two reps, one manager) on a few dealers, run
through the push service in process:

- every field of every op is accounted for right after the op: it is on the row,
  or in a conflict record as 'mine', or kept both, or refused with a reason;
- the same ops in the same order give the same rows on a second server
  (determinism), whatever created_at the devices claim (clock independence).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servertest import TEST_PASSWORDS, dealer_fields
from sqlalchemy import select

from fieldrep.server.core.config import sqlite_url
from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.models import ServerRow, Territory, User
from fieldrep.server.services import admin
from fieldrep.server.services.push import push
from fieldrep.server.services.scope import Caller, caller_for
from fieldrep.sync.protocol import (
    CONFLICT_TABLE,
    MANAGER_ONLY_FIELDS,
    SERVER_STAMPED_FIELDS,
    PushOp,
    PushRequest,
    Reason,
    keep_both,
)

ROW_IDS = [f"0190aaaa-0000-7000-8000-00000000000{n}" for n in range(3)]
PEOPLE = ["alice", "bob", "mona"]
FIELD_VALUES = {
    "city": st.sampled_from(["杭州", "宁波", "温州", None]),
    "notes": st.sampled_from(["甲", "甲\n乙", "丙", None]),
    "abc_class": st.sampled_from(["A", "B", "C"]),
    "credit_limit": st.sampled_from(["100.00", "100.0", "250.50", None]),
}

edit = st.fixed_dictionaries(
    {
        "who": st.sampled_from(PEOPLE),
        "row": st.integers(0, len(ROW_IDS) - 1),
        "kind": st.sampled_from(["upsert", "upsert", "upsert", "delete", "restore"]),
        "fields": st.dictionaries(
            st.sampled_from(sorted(FIELD_VALUES)), st.none(), min_size=1, max_size=3
        ).flatmap(lambda keys: st.fixed_dictionaries({key: FIELD_VALUES[key] for key in keys})),
        # Which earlier state the editor's base comes from: 0 = the newest.
        "staleness": st.integers(0, 3),
        "created_at": st.sampled_from(
            ["2020-01-01T00:00:00.000000Z", "2030-06-01T12:00:00.000000Z"]
        ),
    }
)


def _make_template(path: Path) -> None:
    database = open_server_database(sqlite_url(path))
    try:
        admin.initialise(database)
        admin.add_user(database, TEST_PASSWORDS, "mona", "password!", role="manager")
        for rep in ("alice", "bob"):
            admin.add_user(database, TEST_PASSWORDS, rep, "password!", role="rep", manager="mona")
        admin.add_territory(database, "杭州")
        for rep in ("alice", "bob"):
            admin.assign(database, rep, "杭州")
    finally:
        database.dispose()


_TEMPLATE: list[Path] = []


def _template() -> Path:
    """One migrated, populated database file, copied for every example (fast)."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="fieldrep-merge-template-"))
        _make_template(folder / "server.db")
        _TEMPLATE.append(folder / "server.db")
    return _TEMPLATE[0]


class Server:
    """A fresh server database with the test organisation and its callers."""

    def __init__(self, folder: Path) -> None:
        shutil.copyfile(_template(), folder / "server.db")
        self.database: Database = open_server_database(sqlite_url(folder / "server.db"))
        with self.database.read() as session:
            self.territory = session.scalars(select(Territory.id)).one()
            self.callers: dict[str, Caller] = {
                user.username: caller_for(session, user, f"device-{user.username}")
                for user in session.scalars(select(User))
            }

    def push(self, who: str, ops: list[PushOp]) -> Any:
        request = PushRequest(device_id=f"device-{who}", batch_id=uuid.uuid4(), ops=ops)
        return push(self.database, self.callers[who], request)

    def rows(self) -> dict[tuple[str, str], tuple[int, bool, dict[str, Any]]]:
        with self.database.read() as session:
            return {
                (row.table_name, row.id): (row.row_version, row.deleted, dict(row.values))
                for row in session.scalars(select(ServerRow))
            }


def _comparable(values: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """Row values without wall-clock stamps, with user ids replaced by names."""
    return {
        key: ids.get(value, value) if isinstance(value, str) else value
        for key, value in values.items()
        if key not in SERVER_STAMPED_FIELDS and key not in ("resolved_at",)
    }


def _op_id(number: int) -> uuid.UUID:
    """Op ids that are the same on both servers (conflict ids derive from them)."""
    return uuid.UUID(int=number + 1)


def _same(name: str, left: Any, right: Any) -> bool:
    if name == "credit_limit" and left is not None and right is not None:
        return bool(Decimal(left) == Decimal(right))
    return bool(left == right)


def _run(server: Server, edits: list[dict[str, Any]]) -> None:
    """Push the edits; after each, compare with a reference model of the merge."""
    history: dict[str, list[tuple[bool, dict[str, Any]]]] = {row_id: [] for row_id in ROW_IDS}
    for number, row_id in enumerate(ROW_IDS):
        fields = dealer_fields(server.territory, "店", city="杭州", notes="甲")
        first = PushOp(
            op_id=_op_id(1000 + number), table="dealer", row_id=row_id, kind="upsert", fields=fields
        )
        result = server.push("alice", [first])
        assert result.results[0].status == "applied"
        history[row_id].append((False, server.rows()[("dealer", row_id)][2]))
    for number, step in enumerate(edits):
        row_id = ROW_IDS[step["row"]]
        states = history[row_id]
        was_deleted, before = states[-1]
        base_state = states[max(0, len(states) - 1 - step["staleness"])][1]
        base = {name: base_state.get(name) for name in step["fields"]}
        op = PushOp(
            op_id=_op_id(number),
            table="dealer",
            row_id=row_id,
            kind=step["kind"],
            fields={}
            if step["kind"] == "delete"
            else dict(step["fields"], created_at=step["created_at"]),
            base=base,
        )
        result = server.push(step["who"], [op]).results[0]
        rows = server.rows()
        _version, deleted, after = rows[("dealer", row_id)]
        states.append((deleted, after))
        if step["kind"] == "delete":
            assert (result.status, deleted) == ("applied", True)
            continue
        records = {
            rows[(CONFLICT_TABLE, cid)][2]["field"]: rows[(CONFLICT_TABLE, cid)][2]
            for cid in result.conflict_ids
        }
        if was_deleted and step["kind"] == "upsert":
            # Delete wins: nothing changes, every differing field is kept as a record.
            assert deleted and result.reason is Reason.ROW_DELETED
            differing = [n for n, new in step["fields"].items() if not _same(n, before.get(n), new)]
            assert sorted(result.conflicts) == sorted(differing)
            assert all(records[n]["mine"] == step["fields"][n] for n in differing)
            assert after == before
            continue
        assert not deleted
        refused = {issue.field: issue.reason for issue in result.refused}
        for name, new in step["fields"].items():
            current = before.get(name)
            if _same(name, current, new):
                assert _same(name, after.get(name), new) and name not in result.conflicts
            elif name in MANAGER_ONLY_FIELDS["dealer"] and step["who"] != "mona":
                assert refused.get(name) is Reason.MANAGER_ONLY
                assert after.get(name) == current
            elif _same(name, current, base[name]):
                assert after.get(name) == new, (name, result)
            elif name == "notes" and current and new:
                assert name in result.kept_both
                assert after[name] == keep_both(current, base[name], new, step["who"])
            else:
                assert name in result.conflicts, (name, result)
                assert after.get(name) == current
                record = records[name]
                assert (record["base"], record["mine"], record["theirs"]) == (
                    base[name],
                    new,
                    current,
                )


@given(edits=st.lists(edit, max_size=12))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
def test_every_field_is_accounted_for_and_replays_are_deterministic(
    edits: list[dict[str, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        servers = [Server(Path(first)), Server(Path(second))]
        try:
            for server in servers:
                _run(server, edits)
            states = []
            for server in servers:
                ids = {caller.user_id: name for name, caller in server.callers.items()}
                ids[server.territory] = "territory"
                states.append(
                    {
                        (table, row_id if table != "app_user" else ids.get(row_id, row_id)): (
                            version,
                            deleted,
                            _comparable(values, ids),
                        )
                        for (table, row_id), (version, deleted, values) in server.rows().items()
                        if table not in ("territory",)
                    }
                )
            assert states[0] == states[1]
        finally:
            for server in servers:
                server.database.dispose()
