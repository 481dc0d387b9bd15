"""Units of the hostile-peer defences: the Host check, the login throttle, the peer log."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from daybreak_device.connections import HEADER_TIMEOUT, ConnectionGuard
from daybreak_device.hosts import HostCheck, device_names
from daybreak_device.peerlog import ACCEPT_ERROR_MESSAGE, AcceptErrors, PeerLog, QuietLibraryLog
from daybreak_device.throttle import FREE_FAILURES, LOCKOUT, Login
from helpers import TOKEN


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8080", True),
        ("192.168.1.20", True),
        ("[::1]:8080", True),
        ("[fe80::1]", True),
        ("localhost:8080", True),
        ("LOCALHOST.", True),
        ("daybreak-0123456789ab.local:8080", True),
        ("bedroom-light.local", True),
        ("proxy.example", True),
        ("evil.example", False),
        ("evil.example:8080", False),
        ("127.0.0.1.evil.example", False),
        ("localhost.evil.example", False),
        ("[evil.example]", False),
        ("", False),
        (None, False),
    ],
)
def test_host_check(host: str | None, allowed: bool) -> None:
    names = device_names(
        name="Bedroom Light",
        device_id="0123456789ab",
        bind="0.0.0.0",  # noqa: S104 - a wildcard is not a name
        allowed=["proxy.example"],
    )
    assert HostCheck(names).allows(host) is allowed


def test_failed_logins_wait_longer_and_longer_and_a_success_forgets_them() -> None:
    clock = FakeClock()
    peers = PeerLog(clock=clock)
    login = Login(TOKEN, peers, clock=clock)
    for _ in range(FREE_FAILURES):
        assert login.check("wrong", "10.0.0.9").retry_after == 0
    waits = []
    for _ in range(12):
        assert not login.check("wrong", "10.0.0.9").ok
        refused = login.check(TOKEN, "10.0.0.9")  # not even checked while it waits
        assert not refused.ok
        waits.append(refused.retry_after)
        clock.now += refused.retry_after
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(waits) == LOCKOUT
    assert login.check(TOKEN, "10.0.0.8").ok  # another source is not affected
    assert login.check(TOKEN, "10.0.0.9").ok
    assert login.check("wrong", "10.0.0.9").retry_after == 0  # forgotten
    assert peers.totals["failed logins"] == FREE_FAILURES + 12 + 1
    assert peers.totals["throttled logins"] == 12


def test_no_token_is_no_guess() -> None:
    """Requests without a token are refused and counted, but never throttled."""
    peers = PeerLog()
    login = Login(TOKEN, peers)
    for _ in range(3 * FREE_FAILURES):
        assert login.check(None, "10.0.0.9") == login.check("", "10.0.0.9")
        assert not login.check(None, "10.0.0.9").ok
    assert login.check("wrong", "10.0.0.9").retry_after == 0
    assert peers.totals == {"logins without a token": 45, "failed logins": 1}


def test_the_peer_log_writes_one_line_a_minute_with_the_worst_source(caplog) -> None:
    clock = FakeClock()
    peers = PeerLog(clock=clock)
    caplog.set_level(logging.WARNING, logger="daybreak_device.peerlog")
    for n in range(10_000):
        peers.record("malformed frames", f"10.0.0.{n % 3}")
        peers.record("failed logins", "10.0.0.7")
        clock.now += 0.01  # 100 s in all
    assert len(caplog.records) == 2  # at once, then a minute later
    assert "1 malformed frames" in caplog.records[0].getMessage()
    last = caplog.records[1].getMessage()
    assert re.search(r"\b6\d{3} failed logins, 6\d{3} malformed frames", last), last
    assert re.search(r"most from 10\.0\.0\.7 \(6\d{3}\)", last), last


def test_a_library_log_filter_counts_peer_messages_and_throttles_the_rest() -> None:
    clock = FakeClock()
    peers = PeerLog(clock=clock)
    quiet = QuietLibraryLog(peers, [("Invalid HTTP request", "bad HTTP requests")], clock=clock)

    def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord("lib", level, __file__, 1, message, None, None)

    assert not quiet.filter(record("Invalid HTTP request received."))
    assert quiet.filter(record("Something else"))
    assert not quiet.filter(record("Something else"))
    assert quiet.filter(record("debug detail", logging.DEBUG))
    clock.now += 61
    assert quiet.filter(record("Something else"))
    assert peers.totals == {"bad HTTP requests": 1, "library errors": 1}


class FakeTransport:
    def __init__(self, host: str, port: int) -> None:
        self.peer = (host, port)
        self.aborted = False

    def get_extra_info(self, name: str) -> object:
        return self.peer if name == "peername" else None

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True


def test_the_connection_cap_refuses_the_newest_and_one_address_gets_a_quarter() -> None:
    clock = FakeClock()
    peers = PeerLog(clock=clock)
    guard = ConnectionGuard(40, peers, clock=clock)
    attacker = [FakeTransport("10.0.0.66", port) for port in range(20)]
    admitted = [guard.opened(t) for t in attacker]  # type: ignore[arg-type]
    assert sum(conn is not None for conn in admitted) == 10  # a quarter of 40
    good = guard.opened(FakeTransport("10.0.0.2", 1))  # type: ignore[arg-type]
    assert good is not None
    guard.authenticated(("10.0.0.2", 1))
    others = [guard.opened(FakeTransport(f"10.0.1.{n}", 1)) for n in range(40)]  # type: ignore[arg-type]
    assert sum(conn is not None for conn in others) == 29  # the cap: 10 + 1 + 29 = 40
    assert peers.totals["connections over the limit"] == 11
    assert peers.totals["connections over the limit of one address"] == 10
    # Past the deadline, every connection but the logged-in WebSocket is cut off.
    good.websocket = True
    guard.authenticated(("10.0.0.2", 1))
    clock.now += HEADER_TIMEOUT
    expired = guard.sweep()
    assert len(expired) == 39
    for conn in expired:
        conn.transport.abort()
    assert len(guard) == 1
    assert all(t.aborted for t in attacker[:10])
    assert guard.opened(FakeTransport("10.0.0.66", 99)) is not None  # room again


async def test_accept_errors_are_logged_once_per_episode(caplog) -> None:
    """asyncio's accept loop reports every failed accept() (EMFILE) to the loop's
    exception handler: one line per episode, and one when accepting works again; other
    reports go to the previous handler, at most once a minute."""
    loop = asyncio.get_running_loop()
    peers = PeerLog()
    handler = AcceptErrors(peers)
    previous: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: previous.append(context))
    handler.install(loop)
    caplog.set_level(logging.INFO, logger="daybreak_device.peerlog")
    try:
        for _ in range(2):
            for _ in range(1000):
                loop.call_exception_handler(
                    {
                        "message": ACCEPT_ERROR_MESSAGE,
                        "exception": OSError(24, "Too many open files"),
                    }
                )
            handler.accepted()
        for _ in range(10):
            loop.call_exception_handler({"message": "Task exception was never retrieved"})
    finally:
        handler.uninstall()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(("Cannot", "Acc"))]
    failing = (
        "Cannot accept connections: Too many open files; retrying every second (logged once "
        "until it works again)"
    )
    again = "Accepting connections again (1000 accept() failures in that episode)"
    assert lines == [failing, again, failing, again]
    assert len(previous) == 1
    assert peers.totals["accept() failures"] == 2000
    assert peers.totals["loop errors"] == 9
    assert loop.get_exception_handler() is not handler._handle
