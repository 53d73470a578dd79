"""What each screen of the workbench reads and writes, as plain functions (no Qt).

The GUI (fieldrep/ui) holds no SQL: its views call these functions on the
database worker. Each takes a Store (or an engine at start-up) and returns
frozen dataclasses or :class:`~fieldrep.storage.services.core.Record` snapshots,
never ORM instances.
"""
