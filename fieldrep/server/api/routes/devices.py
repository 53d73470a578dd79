"""Devices: a user sees their own, a manager also their team's, an admin all."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from fieldrep.server.api.deps import CallerDep, StateDep
from fieldrep.server.api.routes.errors import error_responses
from fieldrep.server.core.errors import ApiError
from fieldrep.server.models import Device, User
from fieldrep.server.services.auth import revoke_device as revoke_device_tokens
from fieldrep.server.services.scope import Caller
from fieldrep.sync.protocol import DeviceInfo, DeviceList, Reason

router = APIRouter(prefix="/devices", tags=["devices"])


def _visible_devices(caller: Caller) -> Select[Device, str]:
    query = select(Device, User.username).join(User, User.id == Device.user_id)
    if caller.is_admin:
        return query
    if caller.is_manager:
        return query.where(or_(User.id == caller.user_id, User.manager_user_id == caller.user_id))
    return query.where(User.id == caller.user_id)


def _info(device: Device, username: str) -> DeviceInfo:
    return DeviceInfo(
        id=device.id,
        user_id=device.user_id,
        username=username,
        name=device.name,
        created_at=device.created_at,
        last_seen_at=device.last_seen_at,
        revoked_at=device.revoked_at,
    )


@router.get("", response_model=DeviceList, responses=error_responses(401))
def list_devices(caller: CallerDep, state: StateDep) -> DeviceList:
    """The devices the caller may see and revoke."""
    with state.database.read() as session:
        rows = session.execute(_visible_devices(caller).order_by(Device.created_at)).all()
        return DeviceList(devices=[_info(device, username) for device, username in rows])


@router.post("/{device_id}/revoke", response_model=DeviceInfo, responses=error_responses(401, 404))
def revoke_device(device_id: str, caller: CallerDep, state: StateDep) -> DeviceInfo:
    """Revoke a device: its next request gets 401 and its tokens are void."""

    def work(session: Session) -> DeviceInfo:
        found = session.execute(_visible_devices(caller).where(Device.id == device_id)).first()
        if found is None:
            raise ApiError(404, Reason.NOT_FOUND)
        device, username = found
        revoke_device_tokens(session, device)
        session.flush()
        return _info(device, username)

    return state.database.write(work)
