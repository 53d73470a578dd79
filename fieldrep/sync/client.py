"""HTTP client of the sync protocol: typed calls, auth refresh, retries.

Network faults and "server busy" answers are retried with exponential backoff
and jitter (tenacity); a retried push resends the very same frozen batch, which
the server answers idempotently. An expired access token is refreshed once and
the call continues; a refused refresh (revoked device, reused token) ends the
sync with :class:`SignedOut` and leaves the outbox alone.

The transport is injectable (``httpx.BaseTransport``) so tests drive the real
server app in-process and inject faults.
"""

from __future__ import annotations

import errno
import logging
import math
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import WaitBaseT

from fieldrep.i18n import N_, _
from fieldrep.sync import protocol
from fieldrep.sync.protocol import (
    API_PREFIX,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    LoginRequest,
    MetaResponse,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Reason,
    RefreshRequest,
    TokenResponse,
)
from fieldrep.sync.tokens import Tokens

log = logging.getLogger("fieldrep.sync")

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Seconds without any answer from the server after which a sync gives up.
STALL_LIMIT = 75.0


class SyncError(Exception):
    """A sync could not finish; ``user_message()`` says why in the current language."""

    template = N_("The sync failed: {detail}")

    def __init__(self, detail: str = "", code: str = "") -> None:
        super().__init__(detail or code)
        self.detail = detail
        self.code = code

    def user_message(self) -> str:
        return _(self.template).format(detail=self.detail)


# Why a server could not be reached, in words a user reads. The technical text
# (httpx's exception, an HTTP status) goes to the log file only.
REFUSED = N_("the server refused the connection")
NO_ADDRESS = N_("the server address was not found")
TIMED_OUT = N_("the connection timed out")
CERTIFICATE = N_("the server's certificate is not valid")
SECURE_CONNECTION = N_("no secure connection could be set up")
INTERRUPTED = N_("the connection was interrupted")
NO_NETWORK = N_("no network")
BUSY = N_("the server is busy or out of service")
NETWORK_ERROR = N_("network error")

# What the operating system and httpx write for each reason, for a failure that
# arrives as text only (no exception chain to inspect); checked in this order.
_REASON_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (CERTIFICATE, ("certificate",)),
    (SECURE_CONNECTION, ("ssl", "tls")),
    (
        NO_ADDRESS,
        (
            "name or service not known",
            "nodename nor servname",
            "name resolution",
            "getaddrinfo",
            "no address associated",
            "errno -2]",
            "errno -3]",
            "errno 11001]",
        ),
    ),
    (REFUSED, ("refused", "errno 111]", "errno 61]", "10061")),
    (INTERRUPTED, ("reset", "aborted", "broken pipe", "disconnected", "errno 104]", "10054")),
    (TIMED_OUT, ("timed out", "timeout")),
    (NO_NETWORK, ("network is unreachable", "no route to host", "network is down")),
)


def reason_from_text(detail: str) -> str:
    """The worded reason (a message id) that a technical error text names."""
    text = detail.lower()
    for reason, words in _REASON_WORDS:
        if any(word in text for word in words):
            return reason
    return NETWORK_ERROR


# errno values of "no network" (no route, interface down); not every platform has all.
_NO_NETWORK_ERRNOS = frozenset(
    code
    for code in (getattr(errno, name, None) for name in ("ENETUNREACH", "EHOSTUNREACH", "ENETDOWN"))
    if code is not None
)


def network_reason(error: BaseException) -> str:
    """The worded reason (a message id) for a request that failed on the network.

    httpx chains the exception of the socket or TLS layer as the cause (through
    httpcore's), so the class tells the reason on every platform; the text is
    the fallback.
    """
    if isinstance(error, httpx.TimeoutException):
        return TIMED_OUT
    link: BaseException | None = error
    seen: set[int] = set()
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, ssl.SSLCertVerificationError):
            return CERTIFICATE
        if isinstance(link, ssl.SSLError):
            return SECURE_CONNECTION
        if isinstance(link, socket.gaierror):
            return NO_ADDRESS
        if isinstance(link, ConnectionRefusedError):
            return REFUSED
        if isinstance(link, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return INTERRUPTED
        if isinstance(link, TimeoutError):
            return TIMED_OUT
        if isinstance(link, OSError) and link.errno in _NO_NETWORK_ERRNOS:
            return NO_NETWORK
        link = link.__cause__ or link.__context__
    if isinstance(error, httpx.RemoteProtocolError):
        return INTERRUPTED  # e.g. the server closed the connection without an answer
    return reason_from_text(str(error))


class Unreachable(SyncError):
    """The server could not be reached (offline, DNS, refused, timeouts, busy).

    ``reason`` is one of the worded reasons above; ``detail`` the technical text,
    for the log. Without a reason, the one ``detail`` names is taken.
    """

    template = N_(
        "The server cannot be reached ({reason}). Your changes are kept and will be sent later."
    )

    def __init__(self, detail: str = "", code: str = "", reason: str = "") -> None:
        super().__init__(detail, code)
        self.reason = reason or reason_from_text(detail)

    def user_message(self) -> str:
        return _(self.template).format(reason=_(self.reason))


class SignInUnreachable(Unreachable):
    """The server could not be reached at sign-in: nothing is kept to send later."""

    template = N_(
        "The server cannot be reached ({reason}). "
        "Please check the address and the network and try again."
    )


class NotResponding(Unreachable):
    """No answer from the server for ``seconds``: a hanging server ends the sync."""

    template = N_(
        "The server is not responding: no answer for {seconds} s. "
        "Your changes are kept and will be sent later."
    )

    def __init__(self, detail: str = "", code: str = "", seconds: float = 0.0) -> None:
        super().__init__(detail, code)
        self.seconds = seconds

    def user_message(self) -> str:
        return _(self.template).format(seconds=round(self.seconds))


class Refused(SyncError):
    """The server answered with a refusal that retrying will not change."""

    template = N_("The server refused the sync: {detail}")


class UnsupportedClient(Refused):
    """HTTP 426: this FieldRep is too old or too new for the server."""

    template = N_(
        "This version of FieldRep is not supported by the server. Please update FieldRep."
    )


class SignInRefused(Refused):
    """HTTP 401 at sign-in: wrong user name or password (about the sign-in, not a sync)."""

    def user_message(self) -> str:
        return self.detail  # the server's reason, already in the user's language


class SignedOut(Refused):
    """401 that a refresh cannot fix: revoked device, expired or reused refresh token."""

    template = N_(
        "You are signed out ({detail}). Your unsent changes are kept: sign in again, "
        "or export them for support (File > Export unsent changes…)."
    )

    def user_message(self) -> str:
        # The server's reason is a sentence with its own full stop; in brackets before
        # the template's stop it would double it ("…停用。）。").
        detail = self.detail.strip().rstrip(".。")
        return _(self.template).format(detail=detail)


class NotSignedIn(SignedOut):
    template = N_(
        "This database is not signed in to a server. Run: fieldrep login --server URL --user NAME"
    )


class TooManyAttempts(Refused):
    """HTTP 429 on sign-in: too many failed sign-ins; ``retry_after`` seconds to wait."""

    template = N_("Too many failed sign-ins: sign-in is paused. Try again in {minutes} min.")

    def __init__(self, detail: str = "", code: str = "", retry_after: int = 60) -> None:
        super().__init__(detail, code)
        self.retry_after = retry_after

    def user_message(self) -> str:
        return _(self.template).format(minutes=max(1, math.ceil(self.retry_after / 60)))


class ResyncNeeded(SyncError):
    """HTTP 410: the cursor is too old or the server epoch changed."""


class _Retryable(Exception):
    """Internal: a transient failure worth another attempt; ``reason`` as for Unreachable."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


def _message(reason: str, fallback: str) -> str:
    try:
        return _(protocol.REASON_MESSAGES[Reason(reason)])
    except (ValueError, KeyError):
        return fallback


class SyncClient:
    """Typed access to ``/v1`` of one server for one signed-in device."""

    def __init__(
        self,
        server_url: str,
        *,
        tokens: Tokens | None = None,
        save_tokens: Callable[[Tokens], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 5,
        wait: WaitBaseT | None = None,
        timeout: float = 30.0,
        stall_limit: float = STALL_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        # A hanging server must not hold a sync for minutes: once one request got no
        # usable answer for ``stall_limit`` seconds, over all its attempts, the sync
        # ends (NotResponding). Each answered request starts the count again, so a
        # long first sync that keeps receiving pages is never cut off.
        self._stall_limit = stall_limit
        self._clock = clock
        self._timeout = timeout
        self.tokens = tokens
        self._save_tokens = save_tokens
        self._max_attempts = max_attempts
        self._wait = wait if wait is not None else wait_random_exponential(multiplier=0.5, max=30)
        self._http = httpx.Client(
            base_url=self.server_url,
            transport=transport,
            timeout=timeout,
            headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- calls

    def login(self, username: str, password: str, device_id: str | None) -> TokenResponse:
        """Sign in; the answer names this device and carries fresh tokens."""
        body = LoginRequest(username=username, password=password, device_id=device_id)
        try:
            answer = self._call("POST", "/auth/login", body, TokenResponse, auth=False)
        except Unreachable as error:
            # At sign-in there is nothing to send later: say so, and what to check.
            reason = TIMED_OUT if isinstance(error, NotResponding) else error.reason
            raise SignInUnreachable(error.detail, error.code, reason) from error
        self._store(answer)
        return answer

    def meta(self) -> MetaResponse:
        return self._call("GET", "/sync/meta", None, MetaResponse)

    def push(self, request: PushRequest) -> PushResponse:
        return self._call("POST", "/sync/push", request, PushResponse)

    def pull(self, request: PullRequest) -> PullResponse:
        return self._call("POST", "/sync/pull", request, PullResponse)

    def audit(self, query: list[tuple[str, str]]) -> protocol.AuditPage:
        """One page of GET /v1/audit; ``query`` holds its filters (``row_id`` may repeat)."""
        path = f"/audit?{httpx.QueryParams(tuple(query))}" if query else "/audit"
        return self._call("GET", path, None, protocol.AuditPage)

    # -- plumbing

    def _store(self, answer: TokenResponse) -> None:
        self.tokens = Tokens(answer.access_token, answer.refresh_token, answer.device_id)
        if self._save_tokens is not None:
            self._save_tokens(self.tokens)

    def _refresh(self) -> None:
        if self.tokens is None:
            raise NotSignedIn(code=Reason.NOT_AUTHENTICATED)
        body = RefreshRequest(refresh_token=self.tokens.refresh_token)
        try:
            answer = self._call("POST", "/auth/refresh", body, TokenResponse, auth=False)
        except Refused as error:
            raise SignedOut(error.detail, error.code) from error
        self._store(answer)

    def _call(
        self,
        method: str,
        path: str,
        body: BaseModel | None,
        answer_type: type[ModelT],
        *,
        auth: bool = True,
    ) -> ModelT:
        refreshed = False
        while True:
            response = self._send(method, path, body, auth)
            if response.status_code == 401 and auth and not refreshed:
                code = _error_code(response)
                if code in (Reason.TOKEN_EXPIRED, Reason.INVALID_TOKEN, Reason.NOT_AUTHENTICATED):
                    log.info("access token refused (%s); refreshing", code)
                    _release(response)
                    self._refresh()
                    refreshed = True
                    continue
            try:
                return self._decode(response, answer_type)
            finally:
                _release(response)

    def _send(self, method: str, path: str, body: BaseModel | None, auth: bool) -> httpx.Response:
        content = None if body is None else body.model_dump_json().encode()
        started = self._clock()

        def silent() -> float:
            return self._clock() - started

        def attempt() -> httpx.Response:
            headers = {"Content-Type": "application/json"} if content is not None else {}
            if auth:
                if self.tokens is None:
                    raise NotSignedIn(code=Reason.NOT_AUTHENTICATED)
                headers["Authorization"] = f"Bearer {self.tokens.access_token}"
            waited = silent()
            if waited >= self._stall_limit:
                raise NotResponding(seconds=waited)
            # No attempt outlasts the time left before the stall limit.
            timeout = max(1.0, min(self._timeout, self._stall_limit - waited))
            try:
                response = self._http.request(
                    method, API_PREFIX + path, content=content, headers=headers, timeout=timeout
                )
            except httpx.TransportError as error:
                raise _Retryable(
                    f"{type(error).__name__}: {error}", network_reason(error)
                ) from error
            if response.status_code == 429 and _error_code(response) == Reason.TOO_MANY_ATTEMPTS:
                return response  # a sign-in lock: retrying at once only meets it again
            if response.status_code in (429, 502, 503, 504) or response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}", BUSY)
            return response

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_any(
                stop_after_attempt(self._max_attempts),
                _StopWhen(lambda: silent() >= self._stall_limit),
            ),
            # The pause before the next attempt ends by the stall limit at the latest.
            wait=lambda state: max(0.0, min(self._wait(state), self._stall_limit - silent())),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as error:
            waited = silent()
            if waited >= self._stall_limit:
                raise NotResponding(error.detail, seconds=waited) from error
            log.warning("%s%s unreachable: %s", self.server_url, path, error.detail)
            raise Unreachable(error.detail, reason=error.reason) from error

    def _decode(self, response: httpx.Response, answer_type: type[ModelT]) -> ModelT:
        status = response.status_code
        if status < 300:
            try:
                return answer_type.model_validate_json(response.content)
            except ValidationError as error:
                raise Refused(
                    _("The server sent an answer FieldRep does not understand.")
                ) from error
        code = _error_code(response)
        detail = _message(code, _error_text(response))
        if status == 426:
            raise UnsupportedClient(detail, code)
        if status == 410:
            raise ResyncNeeded(detail, code)
        if status == 429:
            raise TooManyAttempts(detail, code, _retry_after(response))
        if status == 401:
            if code == Reason.INVALID_CREDENTIALS:
                raise SignInRefused(detail, code)
            raise SignedOut(detail, code)
        raise Refused(detail, code)


class _StopWhen(stop_base):
    """Tenacity's stop on a condition of ours (tenacity's own delays read its own clock)."""

    def __init__(self, condition: Callable[[], bool]) -> None:
        self._condition = condition

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._condition()


def _release(response: httpx.Response) -> None:
    """Free a decoded answer's body now instead of at the next full garbage collection.

    httpx binds a response's stream back to the response (a reference cycle), so a
    pulled page's body (megabytes) would outlive its decoding by several pages.
    """
    response.close()
    response.stream = httpx.ByteStream(b"")


def _error_code(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        return str(data.get("code", ""))
    return ""


def _retry_after(response: httpx.Response) -> int:
    """The Retry-After header in seconds (a minute when missing or not a number)."""
    try:
        return max(1, int(response.headers.get("Retry-After", "60")))
    except ValueError:
        return 60


def _error_text(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return f"HTTP {response.status_code}"


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    log.warning("sync request failed (attempt %d): %s; retrying", state.attempt_number, error)
