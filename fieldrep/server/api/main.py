"""The /v1 API router: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from fieldrep.server.api.routes import audit, auth, conflicts, devices, sync
from fieldrep.sync.protocol import API_PREFIX

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(auth.router)
api_router.include_router(devices.router)
api_router.include_router(sync.router)
api_router.include_router(conflicts.router)
api_router.include_router(audit.router)
