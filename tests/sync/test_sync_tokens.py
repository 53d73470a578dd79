"""Tokens live in the OS keyring only, with a clear refusal when it is not secure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null
from synctest_keyring import MemoryKeyring

from fieldrep.i18n import language
from fieldrep.sync import tokens
from fieldrep.sync.tokens import NoSecureStorage, Tokens


def test_tokens_round_trip_per_server_and_user(memory_keyring: MemoryKeyring) -> None:
    tokens.save_tokens("https://a.example/", "li", Tokens("acc", "ref", "dev"))
    tokens.save_tokens("https://a.example", "wang", Tokens("acc2", "ref2", "dev2"))
    assert tokens.load_tokens("https://a.example", "li") == Tokens("acc", "ref", "dev")
    assert tokens.load_tokens("https://a.example", "wang") == Tokens("acc2", "ref2", "dev2")
    assert tokens.load_tokens("https://b.example", "li") is None
    assert ("FieldRep", "https://a.example|li") in memory_keyring.secrets
    tokens.delete_tokens("https://a.example", "li")
    assert tokens.load_tokens("https://a.example", "li") is None


@pytest.fixture(params=[fail.Keyring, null.Keyring])
def insecure_keyring(request: pytest.FixtureRequest) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(request.param())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.mark.usefixtures("insecure_keyring")
def test_no_secure_backend_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(NoSecureStorage) as caught:
        tokens.save_tokens("https://a.example", "li", Tokens("a", "r"))
    with language("en"):
        assert "secure password storage" in caught.value.user_message()
    with pytest.raises(NoSecureStorage):
        tokens.load_tokens("https://a.example", "li")
    # Nothing was written anywhere as a fallback.
    assert list(tmp_path.iterdir()) == []


def test_a_backend_error_is_a_clear_refusal(memory_keyring: MemoryKeyring) -> None:
    def broken(*_args: object) -> None:
        raise keyring.errors.NoKeyringError("no backend")

    memory_keyring.set_password = broken  # type: ignore[method-assign]
    with pytest.raises(NoSecureStorage):
        tokens.save_tokens("https://a.example", "li", Tokens("a", "r"))
