"""Access and refresh tokens kept in the operating system's keyring.

Tokens never go into the database or a settings file. When the keyring has no
secure backend (a headless Linux without Secret Service, or the fail/null or
plaintext-file backends), saving and loading raise :class:`NoSecureStorage`
with a message the user can act on: there is no silent plaintext fallback.

One exception, asked for explicitly with :func:`keep_in_memory`: the app's
embedded local server (127.0.0.1, started and stopped with the app) issues fresh
tokens at every start, so its tokens stay in this process's memory and are
never written anywhere (no keyring is needed or asked to unlock).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from fieldrep.i18n import N_, _

SERVICE = "FieldRep"

# Backends that do not keep a secret safely: refused rather than used.
_INSECURE_BACKENDS = (
    "keyring.backends.fail.Keyring",
    "keyring.backends.null.Keyring",
    "keyrings.alt.file.PlaintextKeyring",
)


class NoSecureStorage(Exception):
    """The operating system offers no secure place for the sign-in tokens."""

    message = N_(
        "No secure password storage is available on this computer, so FieldRep cannot "
        "stay signed in. Install or unlock the system keyring (Windows Credential Manager, "
        "macOS Keychain or a Secret Service such as GNOME Keyring) and sign in again."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message)
        self.detail = detail

    def user_message(self) -> str:
        return _(self.message)


@dataclass(frozen=True)
class Tokens:
    """What a login returns: a short-lived access token and a rotating refresh token."""

    access_token: str
    refresh_token: str
    device_id: str = ""


def account_key(server_url: str, user: str) -> str:
    """The keyring account name: one entry per server and user."""
    return f"{server_url.rstrip('/')}|{user}"


def _secure_backend() -> KeyringBackend:
    backend = keyring.get_keyring()
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(backend).__mro__}
    if names & set(_INSECURE_BACKENDS):
        raise NoSecureStorage(type(backend).__name__)
    backends = getattr(backend, "backends", None)  # the chainer: secure only if not empty
    if backends is not None and not backends:
        raise NoSecureStorage("no keyring backend")
    return backend


# Servers whose tokens live only in this process (see keep_in_memory), and the tokens.
_memory_servers: set[str] = set()
_memory_tokens: dict[str, str] = {}
_memory_lock = threading.Lock()


def keep_in_memory(server_url: str) -> None:
    """Keep the tokens of ``server_url`` in this process's memory only, never on disk.

    For the app's embedded local server, whose tokens are issued afresh at each start.
    """
    with _memory_lock:
        _memory_servers.add(server_url.rstrip("/"))


def forget_in_memory(server_url: str) -> None:
    """Drop a server kept in memory and its tokens (the local server stopped)."""
    prefix = account_key(server_url, "")
    with _memory_lock:
        _memory_servers.discard(server_url.rstrip("/"))
        for key in [key for key in _memory_tokens if key.startswith(prefix)]:
            del _memory_tokens[key]


def _in_memory(server_url: str) -> bool:
    with _memory_lock:
        return server_url.rstrip("/") in _memory_servers


def save_tokens(server_url: str, user: str, tokens: Tokens) -> None:
    """Store the tokens for this server and user (replacing older ones)."""
    if _in_memory(server_url):
        with _memory_lock:
            _memory_tokens[account_key(server_url, user)] = json.dumps(asdict(tokens))
        return
    backend = _secure_backend()
    try:
        backend.set_password(SERVICE, account_key(server_url, user), json.dumps(asdict(tokens)))
    except keyring.errors.KeyringError as error:
        raise NoSecureStorage(str(error)) from error


def load_tokens(server_url: str, user: str) -> Tokens | None:
    """The stored tokens, or None when this user never signed in to this server."""
    if _in_memory(server_url):
        with _memory_lock:
            stored: str | None = _memory_tokens.get(account_key(server_url, user))
    else:
        backend = _secure_backend()
        try:
            stored = backend.get_password(SERVICE, account_key(server_url, user))
        except keyring.errors.KeyringError as error:
            raise NoSecureStorage(str(error)) from error
    if not stored:
        return None
    try:
        data = json.loads(stored)
        return Tokens(
            str(data["access_token"]), str(data["refresh_token"]), data.get("device_id", "")
        )
    except (ValueError, KeyError, TypeError):
        return None


def delete_tokens(server_url: str, user: str) -> None:
    """Forget the tokens (sign out, or after the device was revoked)."""
    if _in_memory(server_url):
        with _memory_lock:
            _memory_tokens.pop(account_key(server_url, user), None)
        return
    backend = _secure_backend()
    try:
        backend.delete_password(SERVICE, account_key(server_url, user))
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as error:
        raise NoSecureStorage(str(error)) from error
