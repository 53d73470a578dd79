"""Admin functions behind `fieldrep server ...`: territories, users, devices, epoch, log pruning.

Territories and users are also published as synced rows (``territory`` and
``app_user``, server-managed tables) so that devices know names for owner pickers
and for the "who changed what" digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.server.core.db import Database
from fieldrep.server.core.security import Passwords, new_epoch, new_id, now_text
from fieldrep.server.models import (
    Assignment,
    Device,
    RestoreMark,
    ServerRestore,
    ServerRow,
    SyncStream,
    Territory,
    User,
)
from fieldrep.server.services import throttle
from fieldrep.server.services.auth import revoke_device
from fieldrep.server.services.maintenance import prune_stream
from fieldrep.server.services.rowstore import (
    EPOCH_KEY,
    ChangeWriter,
    current_epoch,
    ensure_initialised,
    get_meta,
    set_meta,
)
from fieldrep.server.services.scope import ROLES, SYSTEM_USER_ID, scope_of


class AdminError(Exception):
    """A refused admin command; ``message`` is an English template marked for translation."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def initialise(database: Database) -> str:
    """Create the epoch and token secret if missing; returns the epoch."""

    def work(session: Session) -> str:
        ensure_initialised(session)
        session.flush()
        return current_epoch(session)

    return database.write(work)


def _system_writer(session: Session) -> ChangeWriter:
    return ChangeWriter(session, user_id=SYSTEM_USER_ID, device_id=None)


def _user_by_name(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise AdminError(N_("No user named {name}."), name=username)
    return user


def _territory_by_name(session: Session, name: str) -> Territory:
    territory = session.scalars(select(Territory).where(Territory.name == name)).first()
    if territory is None:
        raise AdminError(N_("No territory named {name}."), name=name)
    return territory


def add_territory(
    database: Database, name: str, *, region: str | None = None, manager: str | None = None
) -> str:
    """Create a territory with its stream; returns its id."""
    name = name.strip()
    if not name:
        raise AdminError(N_("A territory needs a name."))

    def work(session: Session) -> str:
        ensure_initialised(session)
        if session.scalars(select(Territory).where(Territory.name == name)).first():
            raise AdminError(N_("A territory named {name} already exists."), name=name)
        manager_user = None if manager is None else _user_by_name(session, manager)
        if manager_user is not None and manager_user.role not in ("manager", "admin"):
            raise AdminError(N_("{name} is not a manager."), name=manager)
        manager_id = None if manager_user is None else manager_user.id
        territory = Territory(
            id=new_id(), name=name, region=region, manager_user_id=manager_id, created_at=now_text()
        )
        session.add(territory)
        writer = _system_writer(session)
        writer.create_stream(territory.id)
        writer.insert(
            "territory",
            territory.id,
            territory.id,
            {"name": name, "region": region, "manager_user_id": manager_id},
        )
        if manager_user is not None:
            _publish_user(session, writer, manager_user)
        return territory.id

    return database.write(work)


def add_user(
    database: Database,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    role: str,
    display_name: str | None = None,
    manager: str | None = None,
) -> str:
    """Create a user with an argon2 password hash; returns the id."""
    username = username.strip()
    if not username:
        raise AdminError(N_("A user needs a name."))
    if role not in ROLES:
        raise AdminError(N_("Unknown role {role}."), role=role)
    if len(password) < 8:
        raise AdminError(N_("The password must have at least 8 characters."))
    password_hash = passwords.hash(password)

    def work(session: Session) -> str:
        ensure_initialised(session)
        if session.scalars(select(User).where(User.username == username)).first():
            raise AdminError(N_("A user named {name} already exists."), name=username)
        manager_id = None
        if manager is not None:
            manager_user = _user_by_name(session, manager)
            if manager_user.role not in ("manager", "admin"):
                raise AdminError(N_("{name} is not a manager."), name=manager)
            manager_id = manager_user.id
        user = User(
            id=new_id(),
            username=username,
            display_name=(display_name or username).strip(),
            role=role,
            password_hash=password_hash,
            manager_user_id=manager_id,
            active=True,
            created_at=now_text(),
        )
        session.add(user)
        return user.id

    return database.write(work)


def set_password(database: Database, passwords: Passwords, username: str, password: str) -> None:
    if len(password) < 8:
        raise AdminError(N_("The password must have at least 8 characters."))
    password_hash = passwords.hash(password)

    def work(session: Session) -> None:
        _user_by_name(session, username).password_hash = password_hash

    database.write(work)


def set_role(database: Database, username: str, role: str) -> None:
    """Change a user's role; their published app_user row follows.

    The server reads the role at every request; devices read it from the synced
    app_user row after each sync, so the row must change with it (a rep's card
    opens the manager's fields, or closes them, at the next sync). A manager whose
    team still has people is not made a rep: the team would be left with a manager
    who may no longer manage them (they get another one first, ``set_manager``).
    """
    if role not in ROLES:
        raise AdminError(N_("Unknown role {role}."), role=role)

    def work(session: Session) -> None:
        user = _user_by_name(session, username)
        if role == "rep" and user.role != "rep":
            team = session.scalars(
                select(User).where(User.manager_user_id == user.id).order_by(User.username)
            ).all()
            if team:
                raise AdminError(
                    N_(
                        "{name} still manages {team}. Give them another manager first "
                        "(fieldrep server set-manager USER MANAGER), then change the role."
                    ),
                    name=username,
                    team=", ".join(_named(member) for member in team),
                )
        user.role = role
        _change_published(session, user, "role", role)

    database.write(work)


def set_manager(database: Database, username: str, manager: str | None) -> None:
    """Put a user in ``manager``'s team (None: in no team); their app_user row follows."""

    def work(session: Session) -> None:
        user = _user_by_name(session, username)
        manager_id = None
        if manager is not None:
            manager_user = _user_by_name(session, manager)
            if manager_user.role not in ("manager", "admin"):
                raise AdminError(N_("{name} is not a manager."), name=manager)
            if manager_user.id == user.id:
                raise AdminError(N_("{name} cannot be their own manager."), name=username)
            manager_id = manager_user.id
        user.manager_user_id = manager_id
        _change_published(session, user, "manager_user_id", manager_id)

    database.write(work)


def _named(user: User) -> str:
    """A user as an admin types them (the user name), with the name others see."""
    if user.display_name and user.display_name != user.username:
        return f"{user.username} ({user.display_name})"
    return user.username


def _change_published(session: Session, user: User, field: str, value: str | None) -> None:
    """Change one field of the user's published app_user row (an update devices pull).

    A user not published yet gets the new value when assigned (``_publish_user``
    reads the user); an unchanged value changes no row.
    """
    row = session.get(ServerRow, ("app_user", user.id))
    if row is None:
        return
    writer = _system_writer(session)
    writer.lock_streams([row.territory_id])
    session.refresh(row)  # as it is under the stream's lock
    if row.values.get(field) == value:
        return
    values = {**row.values, field: value}
    writer.stamp(values)
    changes = {field: (row.values.get(field), value)}
    row.values = values
    writer.record(row, "update", changes)


def assign(database: Database, username: str, territory_name: str) -> None:
    """Assign a user to a territory (idempotent) and publish their app_user row."""

    def work(session: Session) -> None:
        user = _user_by_name(session, username)
        territory = _territory_by_name(session, territory_name)
        if session.get(Assignment, (user.id, territory.id)) is None:
            session.add(Assignment(user_id=user.id, territory_id=territory.id))
            session.flush()
        _publish_user(session, _system_writer(session), user)

    database.write(work)


def _publish_user(session: Session, writer: ChangeWriter, user: User) -> None:
    """Put the user's app_user row in their first territory (once)."""
    if session.get(ServerRow, ("app_user", user.id)) is not None:
        return
    scope = scope_of(session, user)
    if not scope:
        return
    home = min(scope)
    writer.lock_streams([home])
    writer.insert(
        "app_user",
        user.id,
        home,
        {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "phone": None,
            "email": None,
            "manager_user_id": user.manager_user_id,
        },
    )


@dataclass(frozen=True)
class DeviceRow:
    """A device as the admin listing shows it."""

    id: str
    username: str
    name: str
    created_at: str
    last_seen_at: str | None
    revoked_at: str | None


def list_devices(database: Database) -> list[DeviceRow]:
    with database.read() as session:
        query = select(Device, User.username).join(User, User.id == Device.user_id)
        return [
            DeviceRow(d.id, username, d.name, d.created_at, d.last_seen_at, d.revoked_at)
            for d, username in session.execute(query.order_by(Device.created_at))
        ]


def revoke(database: Database, device_id: str) -> None:
    """Revoke a device by id (a unique prefix of at least 8 characters is enough)."""

    def work(session: Session) -> None:
        device = session.get(Device, device_id)
        if device is None and len(device_id) >= 8:
            matches = list(session.scalars(select(Device).where(Device.id.startswith(device_id))))
            device = matches[0] if len(matches) == 1 else None
        if device is None:
            raise AdminError(N_("No device {id}."), id=device_id)
        revoke_device(session, device)

    database.write(work)


def reset_epoch(database: Database) -> str:
    """Give the server a new epoch (after a restore from backup): every client resyncs.

    Each stream also marks its change number at the restore: versions reached
    after it reuse numbers the lost changes had, and the mark lets the server tell
    devices each row's version at the restore (see ``ServerRow.restore_version``).
    The restore and its marks are also added to the history (``ServerRestore``).
    """

    def work(session: Session) -> str:
        before = get_meta(session, EPOCH_KEY)  # the backup's epoch
        epoch = new_epoch()
        set_meta(session, EPOCH_KEY, epoch)
        # The update waits for the counters' locks: a push in flight counts as before it.
        session.execute(update(SyncStream).values(restore_change_no=SyncStream.last_change_no))
        # The history: a device that slept through several restores is answered
        # relative to the first one after its epoch (see services.pull).
        number = (session.scalar(select(func.max(ServerRestore.restore_no))) or 0) + 1
        session.add(
            ServerRestore(
                restore_no=number, epoch_before=before, epoch=epoch, restored_at=now_text()
            )
        )
        session.flush()
        session.execute(
            insert(RestoreMark).from_select(
                ["restore_no", "territory_id", "change_no"],
                select(literal(number), SyncStream.territory_id, SyncStream.last_change_no),
            )
        )
        return epoch

    return database.write(work)


def unlock_sign_in(database: Database, username: str, address: str | None = None) -> int:
    """Clear the failed sign-ins of ``username`` (and of ``address`` as a whole).

    Returns how many throttle keys were cleared (0: nothing was locked or counted).
    """
    return database.write(lambda session: throttle.unlock(session, username, address))


def prune_change_log(database: Database, keep: int) -> int:
    """Keep the newest ``keep`` changes of each stream; older cursors get 410.

    Returns how many log entries were removed.
    """
    if keep < 0:
        raise AdminError(N_("Cannot keep a negative number of changes."))

    def work(session: Session) -> int:
        territory_ids = list(session.scalars(select(SyncStream.territory_id)))
        return sum(prune_stream(session, territory_id, keep) for territory_id in territory_ids)

    return database.write(work)


DEMO_TERRITORY = "演示片区"
DEMO_REP = "demo"
DEMO_MANAGER = "demo-manager"
DEMO_PASSWORD = "fieldrep-demo"


@dataclass(frozen=True)
class DemoAccounts:
    """The demo set-up a first run signs in with (local server on 127.0.0.1 only)."""

    territory: str
    territory_id: str
    rep: str
    manager: str
    password: str


def ensure_demo(database: Database, passwords: Passwords) -> DemoAccounts:
    """Create the demo territory, a demo manager and a demo rep when missing (idempotent)."""
    initialise(database)
    with database.read() as session:
        territory = session.scalars(
            select(Territory).where(Territory.name == DEMO_TERRITORY)
        ).first()
        existing = set(
            session.scalars(
                select(User.username).where(User.username.in_([DEMO_REP, DEMO_MANAGER]))
            )
        )
    if DEMO_MANAGER not in existing:
        add_user(
            database, passwords, DEMO_MANAGER, DEMO_PASSWORD, role="manager", display_name="王经理"
        )
    if DEMO_REP not in existing:
        add_user(
            database,
            passwords,
            DEMO_REP,
            DEMO_PASSWORD,
            role="rep",
            display_name="小李",
            manager=DEMO_MANAGER,
        )
    territory_id = (
        territory.id
        if territory is not None
        else add_territory(database, DEMO_TERRITORY, region="华东", manager=DEMO_MANAGER)
    )
    assign(database, DEMO_REP, DEMO_TERRITORY)
    return DemoAccounts(DEMO_TERRITORY, territory_id, DEMO_REP, DEMO_MANAGER, DEMO_PASSWORD)
