"""A server the client cannot reach is named in words, the technical text goes to the log.

Each failure is real: a closed port, a name that does not resolve, a server that
never answers, one that resets the connection, one with a self-signed certificate,
one answering 503. The user reads "服务器拒绝连接" and not "ConnectError: [Errno 111]".
"""

from __future__ import annotations

import datetime
import logging
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tenacity import wait_none

from fieldrep.i18n import language
from fieldrep.sync.client import SignInUnreachable, SyncClient, Unreachable, network_reason
from fieldrep.sync.tokens import Tokens

TECHNICAL = ("Errno", "Error", "errno", "SSL", "HTTP", "[", "getaddrinfo", "httpx")


def closed_port() -> str:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there now
    return url


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


def serve(server: socket.socket, handle: Callable[[socket.socket], None]) -> threading.Thread:
    """Answer connections on ``server`` with ``handle`` until it closes."""

    def loop() -> None:
        while True:
            try:
                connection, _address = server.accept()
            except OSError:
                return
            with connection:
                handle(connection)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def url_of(server: socket.socket, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.getsockname()[1]}"


def failure(url: str, transport: httpx.BaseTransport | None = None) -> Unreachable:
    """The error of one sync call to ``url`` (a single attempt)."""
    tokens = Tokens("access", "refresh", "device-1")
    client = SyncClient(
        url, tokens=tokens, transport=transport, max_attempts=1, wait=wait_none(), timeout=1.0
    )
    with client, pytest.raises(Unreachable) as caught:
        client.meta()
    return caught.value


def messages(error: Unreachable) -> tuple[str, str]:
    with language("zh_CN"):
        chinese = error.user_message()
    with language("en"):
        english = error.user_message()
    for message in (chinese, english):
        assert not any(word in message for word in TECHNICAL), message
    return chinese, english


def test_a_refused_connection_reads_as_such_and_the_log_keeps_the_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = closed_port()
    with caplog.at_level(logging.INFO, logger="fieldrep.sync"):
        error = failure(url)
    assert messages(error) == (
        "无法连接服务器（服务器拒绝连接）。您的修改已保留，稍后会发送。",
        "The server cannot be reached (the server refused the connection). "
        "Your changes are kept and will be sent later.",
    )
    assert "ConnectError" in error.detail
    assert "ConnectError" in caplog.text and url in caplog.text, "the detail is for the log"


def test_a_name_that_does_not_resolve_reads_server_address_not_found() -> None:
    # .invalid never resolves (RFC 6761), with or without a network.
    chinese, english = messages(failure("http://fieldrep.invalid"))
    assert "找不到服务器地址" in chinese
    assert "(the server address was not found)" in english


def test_a_server_that_never_answers_reads_timed_out(listener: socket.socket) -> None:
    # Connections wait in the backlog: accepted by the system, never answered.
    chinese, english = messages(failure(url_of(listener)))
    assert "（连接超时）" in chinese
    assert "(the connection timed out)" in english


def test_a_reset_connection_reads_interrupted(listener: socket.socket) -> None:
    def reset(connection: socket.socket) -> None:
        connection.recv(65536)
        # Linger 0: closing sends a reset (RST), as a crashed proxy or firewall does.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    serve(listener, reset)
    chinese, english = messages(failure(url_of(listener)))
    assert "（连接被中断）" in chinese
    assert "(the connection was interrupted)" in english


def test_an_untrusted_certificate_reads_certificate_not_valid(
    listener: socket.socket, tmp_path: Path
) -> None:
    certificate, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)

    def handshake(connection: socket.socket) -> None:
        try:
            with context.wrap_socket(connection, server_side=True) as secure:
                secure.recv(65536)
        except (ssl.SSLError, OSError):
            pass  # the client gives up during the handshake

    serve(listener, handshake)
    chinese, english = messages(failure(url_of(listener, "https")))
    assert "（服务器证书无效）" in chinese
    assert "(the server's certificate is not valid)" in english


def test_a_plain_server_behind_https_reads_no_secure_connection(listener: socket.socket) -> None:
    def plain(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    serve(listener, plain)
    chinese, english = messages(failure(url_of(listener, "https")))
    assert "（无法建立安全连接）" in chinese
    assert "(no secure connection could be set up)" in english


def test_a_busy_server_reads_busy() -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(503))
    chinese, english = messages(failure("http://server.test", transport=transport))
    assert "（服务器繁忙或暂停服务）" in chinese
    assert "(the server is busy or out of service)" in english


def test_failures_known_only_by_their_text_are_worded_too() -> None:
    """A transport that raises httpx's error without the socket's (tests, proxies)."""
    cases = {
        "[Errno 111] Connection refused": "the server refused the connection",
        "[Errno -2] Name or service not known": "the server address was not found",
        "[Errno 104] Connection reset by peer": "the connection was interrupted",
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed": (
            "the server's certificate is not valid"
        ),
        "[Errno 101] Network is unreachable": "no network",
        "something else": "network error",
    }
    request = httpx.Request("GET", "http://server.test")
    for text, reason in cases.items():
        assert network_reason(httpx.ConnectError(text, request=request)) == reason, text


def test_sign_in_to_an_unreachable_server_asks_to_check_the_address() -> None:
    """Nothing waits to be sent at sign-in: no "will be sent later"."""
    client = SyncClient(closed_port(), max_attempts=1, wait=wait_none())
    with client, pytest.raises(SignInUnreachable) as caught:
        client.login("alice", "secret", None)
    assert messages(caught.value) == (
        "无法连接服务器（服务器拒绝连接），请检查地址和网络后重试。",
        "The server cannot be reached (the server refused the connection). "
        "Please check the address and the network and try again.",
    )


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no authority signed, and its key."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fieldrep.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "cert.pem", folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path
