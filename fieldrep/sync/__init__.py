"""Offline-first sync client: outbox capture, push/pull engine, keyring tokens (no Qt)."""
