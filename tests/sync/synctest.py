"""Constants and helpers shared by the sync tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synce2e import Device, World

TERRITORY = "0190a000-0000-7000-8000-000000000001"
REP = "0190a000-0000-7000-8000-0000000000a1"


def model_defaults(table: str) -> dict[str, object]:
    """Wire values of a table's columns that have scalar defaults (like a full server row)."""
    from fieldrep.storage.models import Base
    from fieldrep.sync.values import to_wire

    values: dict[str, object] = {}
    for column in Base.metadata.tables[table].columns:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            arg = default.arg  # type: ignore[attr-defined]
            values[column.name] = to_wire(table, column.name, getattr(arg, "code", arg))
    return values


OTHER = "0190a000-0000-7000-8000-0000000000b2"


def contact_values(territory_id: str, dealer_id: str, name: str) -> dict[str, Any]:
    """A contact's full wire row (every protocol field; flags off, role unknown)."""
    from fieldrep.sync.protocol import TABLES

    given = {
        "territory_id": territory_id,
        "dealer_id": dealer_id,
        "name": name,
        "decision_role": "unknown",
        "is_senior": False,
        "is_business_contact": False,
        "is_settlement_contact": False,
        "is_counterpart": False,
        "is_sales_staff": False,
        "is_shop_assistant": False,
        "can_block": False,
    }
    return {field: given.get(field) for field in TABLES["contact"].fields}


def shared_dealer(alice: Device, bob: Device, **values: object) -> str:
    """A dealer (杭州恒达, class B) alice creates and both devices sync: each holds it at
    its first version."""
    from fieldrep.storage.enums import AbcClass
    from fieldrep.storage.models import Dealer
    from fieldrep.storage.services import core

    record = core.create(
        alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, **values}
    )
    alice.sync()
    bob.sync()
    return record.id


def run_cli(*argv: str) -> int:
    """``fieldrep <argv>`` of the sync commands, in this process; a CliError is told on
    stderr with its exit code, as fieldrep.cli.main does."""
    import argparse
    import sys

    from fieldrep import cli_sync
    from fieldrep.cli_common import CliError

    parser = argparse.ArgumentParser(prog="fieldrep")
    cli_sync.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    try:
        return int(args.func(args))
    except CliError as error:
        sys.stderr.write(error.message + "\n")
        return error.exit_code


def orphan(world: World, territory_id: str, name: str) -> str:
    """A contact whose dealer never existed, as a server without the reference check
    stored it: a device that pulls it parks it (fieldrep.sync.orphans)."""
    from fieldrep.server.core.security import new_id
    from fieldrep.server.services.rowstore import ChangeWriter
    from fieldrep.server.services.scope import SYSTEM_USER_ID

    row_id = new_id()

    def work(session: Any) -> None:
        writer = ChangeWriter(session, user_id=SYSTEM_USER_ID, device_id=None)
        writer.lock_streams([territory_id])
        writer.insert("contact", row_id, territory_id, contact_values(territory_id, new_id(), name))

    world.database.write(work)
    return row_id


def parked(device: Device) -> set[str]:
    """The ids of the rows the device holds parked."""
    from fieldrep.sync import orphans

    with device.engine.connect() as connection:
        return {str(values["id"]) for _, values in orphans.parked_rows(connection)}


def unassign(world: World, username: str, territory_id: str) -> None:
    """Take a territory from a user on the server (their scope shrinks at once)."""
    from sqlalchemy import delete, select

    from fieldrep.server.models import Assignment, User

    def work(session: Any) -> None:
        user_id = session.scalars(select(User.id).where(User.username == username)).one()
        session.execute(
            delete(Assignment).where(
                Assignment.user_id == user_id, Assignment.territory_id == territory_id
            )
        )

    world.database.write(work)
