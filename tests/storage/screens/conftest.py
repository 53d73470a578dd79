"""Fixtures of the screen data tests: the workbench's rep on the app's fixed today.

The screens read as the signed-in rep does, so the store is the one of the root
conftest (a rep and territory present as rows, today a Wednesday, 2026-11-25)
over the storage tests' migrated copy of the database.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from fieldrep.storage.services.core import Store, UserContext

TODAY = date(2026, 11, 25)


@pytest.fixture
def store(engine: Engine, user_context: UserContext) -> Store:
    return Store(engine, user_context, today=lambda: TODAY)
