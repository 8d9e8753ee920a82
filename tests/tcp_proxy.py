"""A TCP proxy in its own process, to cut a station off the database and let it back.

``LanCable`` starts ``python tests/tcp_proxy.py PORT HOST TARGET_PORT`` as a child process that
forwards every connection to PostgreSQL. ``cut()`` kills it: every connection through it drops
at once, as when the laptop serving the event database goes away, and new connections are
refused. ``plug()`` starts it again on the same port. A child process rather than a thread, so
a UI test's interpreter runs no Python thread (Qt objects must never be finalised on one).

``cut_at_commit(deliver, down)`` arms it to drop every connection when a station next sends
the COMMIT of a transaction that wrote (a read-only one ends with COMMIT too on PostgreSQL,
``kiosk.readonly``, and passes: the cut is meant for an action's own COMMIT): with
``deliver`` the COMMIT reaches the server first (the transaction commits, its answer is
lost), without it the server never sees it (the transaction is rolled back). Either way the
station sees the same broken connection, which is the case an idempotency key must settle.
With ``down`` the proxy then stays down (new connections refused: the station cannot ask
either) until ``plug()``; without it, new connections go through at once.

``LanCable(url, delay_ms=1.0)`` is a slow LAN instead of loopback: each chunk is forwarded
``delay_ms`` after it arrived, in each direction (a round trip gains twice that), in order. The
benchmark of the venue LAN (benchmarks/lan.py) and a test of its invariants run through it. A
heap of chunks due and ``select`` timeouts, not a thread per connection: the proxy shares two
cores with eight stations and PostgreSQL, and sleeps until the next chunk is due. ``select``
rather than epoll, whose timeouts are whole milliseconds (rounded up: a 1 ms delay would
become up to 2), while ``select`` waits to the microsecond; the proxy holds a few dozen
sockets, well within its limit. Each socket has Nagle's algorithm off, so a small chunk
is not held back waiting for an acknowledgement, which a LAN does not do either.

``freeze()`` is the silent drop (a switch that dies, Wi-Fi out of range): every connection
stays open but nothing passes either way (chunks in flight in delay mode wait too), and a
new connection is taken by the kernel but never answered, so the station hears nothing at
all instead of an error. ``freeze_at(text)`` freezes when a station next sends a message
containing ``text`` (e.g. ``b"UPDATE"``), that message held back: the station has sent part
of a transaction and then waits. ``thaw()`` lets everything through again, what was held
back included, as TCP retransmits it once the network is back (on loopback the proxy's
kernel still acknowledges the bytes, so only the station's own deadline can end its wait,
not its TCP timers).

``stop()`` and ``resume()`` SIGSTOP and SIGCONT the proxy process: the whole peer frozen, as a
hung server is (issue #26: a push to a ledger that stops answering). Unlike ``freeze()`` it
needs no word from the proxy, so it also holds a connection opened while it is stopped.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LanCable:
    """A proxy between a station and the database, to be cut and plugged in again."""

    def __init__(self, target_url: str, *, delay_ms: float = 0.0) -> None:
        self.delay_ms = delay_ms  # added to each direction: a round trip gains twice this
        parts = urlsplit(target_url)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 5432
        self.port = free_port()
        netloc = parts.netloc.rsplit("@", 1)
        user = f"{netloc[0]}@" if len(netloc) == 2 else ""
        self.url = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))
        self.process: subprocess.Popen[bytes] | None = None

    def plug(self) -> None:
        if self.process is not None:
            return
        delay = [str(self.delay_ms)] if self.delay_ms > 0 else []
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                str(self.port),
                self.target_host,
                str(self.target_port),
                *delay,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == b"listening"

    def cut_at_commit(self, *, deliver: bool, down: bool) -> None:
        """Drop every connection when the next COMMIT passes (after delivering it, or not)."""
        assert self.process is not None and self.process.stdin is not None
        assert self.process.stdout is not None
        mode = ("after" if deliver else "before") + ("-down" if down else "")
        self.process.stdin.write(mode.encode() + b"\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == b"armed"

    def _tell(self, line: bytes, answer: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == answer

    def freeze(self) -> None:
        """Stop passing anything, keeping every connection open (a silent drop)."""
        self._tell(b"freeze", b"frozen")

    def freeze_at(self, text: bytes) -> None:
        """Freeze when a station next sends a message containing ``text`` (held back)."""
        self._tell(b"freeze-at " + text.hex().encode(), b"armed")

    def frozen(self) -> bool:
        """Whether the proxy is frozen now (after ``freeze`` or a ``freeze_at`` that fired)."""
        assert self.process is not None and self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b"frozen?\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip() == b"yes"

    def thaw(self) -> None:
        """Pass everything again, what was held back first."""
        self._tell(b"thaw", b"thawed")

    def stop(self) -> None:
        """SIGSTOP the proxy: a peer frozen whole (issue #26). The kernel still completes new
        TCP handshakes into the listen backlog and acknowledges bytes sent on open
        connections, but nothing is forwarded or answered, until ``resume()``."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``stop()``: everything waiting is forwarded."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def cuts(self) -> int:
        """How many times this proxy dropped its connections at a COMMIT."""
        assert self.process is not None and self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b"status\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline().split()[1])

    def wait_cut(self, timeout: float = 10.0) -> None:
        """Wait until an armed proxy has cut (it exits); afterwards ``plug()`` restarts it."""
        if self.process is None:
            return
        self.process.wait(timeout)
        self.cut()

    def cut(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdout, self.process.stdin):
            if pipe is not None:
                pipe.close()
        self.process = None

    def __enter__(self) -> LanCable:
        self.plug()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cut()


# PostgreSQL's simple query message for COMMIT, as psycopg sends it: 'Q', length 11, text.
_COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
# What a transaction that wrote has sent before its COMMIT (its statements' text, in either
# protocol): a write, a locking read, the audit chain's append, an advisory lock.
_WRITES = (b"INSERT", b"UPDATE", b"DELETE", b"COPY", b"kiosk_audit_append", b"pg_advisory")


def _precise_timers() -> None:
    """Wake when asked, not up to 50 µs later (Linux's default timer slack for a process):
    half the error of a delayed chunk on an idle machine."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(29, 1, 0, 0, 0)  # PR_SET_TIMERSLACK: 1 ns
    except (OSError, AttributeError):
        pass  # not Linux: the default slack


def _serve(port: int, host: str, target_port: int, delay: float = 0.0) -> None:
    """Forward every connection to ``host:target_port``; ``delay`` seconds each way."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for _attempt in range(50):  # the previous proxy's port may take a moment to free
        try:
            listener.bind(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.1)
    listener.listen(64)
    listener.setblocking(False)
    # select waits to the microsecond; epoll (the default) to the millisecond, rounded up.
    sel = selectors.SelectSelector() if delay else selectors.DefaultSelector()
    if delay:
        _precise_timers()
    sel.register(listener, selectors.EVENT_READ, None)
    control = sys.stdin.buffer
    sel.register(control, selectors.EVENT_READ, None)
    peers: dict[socket.socket, socket.socket] = {}
    clients: set[socket.socket] = set()
    armed = ""  # "after" / "before": cut at the next COMMIT a client sends after a write
    wrote: set[socket.socket] = set()  # clients whose transaction has written
    cuts = 0
    # Delay mode: chunks waiting for their time, (due, order, to, data); data None: close.
    due: list[tuple[float, int, socket.socket, bytes | None]] = []
    order = itertools.count()
    frozen = False
    freeze_at = b""  # freeze when a client sends this
    held: list[tuple[socket.socket, bytes]] = []  # what a freeze_at held back, and for whom

    def freeze() -> None:
        # Nothing is read any more (the selector stops watching), nothing accepted, nothing
        # in flight delivered.
        nonlocal frozen
        if frozen:
            return
        frozen = True
        for s in [listener, *peers]:
            sel.unregister(s)

    def thaw() -> None:
        nonlocal frozen
        if not frozen:
            return
        frozen = False
        for s in [listener, *peers]:
            sel.register(s, selectors.EVENT_READ, None)
        deliver(float("inf"))  # what was in flight before the freeze goes first
        for target, data in held:
            if target in peers:
                with contextlib.suppress(OSError):
                    target.sendall(data)
        held.clear()

    def drop(s: socket.socket) -> None:
        if peers.pop(s, None) is None:
            return
        clients.discard(s)
        wrote.discard(s)
        sel.unregister(s)
        s.close()

    def deliver(until: float) -> None:
        """Send every chunk due by ``until``, oldest first (one direction's order kept)."""
        while due and due[0][0] <= until and not frozen:
            _at, _n, to, chunk = heapq.heappop(due)
            if to not in peers:  # its connection has gone: nobody to give it to
                continue
            if chunk is None:
                drop(to)
                continue
            try:
                to.sendall(chunk)
            except OSError:
                other = peers.get(to)
                drop(to)
                if other is not None:
                    drop(other)

    print("listening", flush=True)
    parent = os.getppid()
    while os.getppid() == parent:  # the test process died: go too, never linger
        wait = 1.0 if frozen or not due else min(1.0, max(0.0, due[0][0] - time.monotonic()))
        for key, _events in sel.select(timeout=wait):
            sock = key.fileobj
            if sock is control:
                line = control.readline().strip().decode()
                if not line:  # the test closed the pipe
                    sel.unregister(control)
                    continue
                if line == "status":
                    print(f"cuts {cuts}", flush=True)
                    continue
                if line == "freeze":
                    freeze()
                    print("frozen", flush=True)
                    continue
                if line == "frozen?":
                    print("yes" if frozen else "no", flush=True)
                    continue
                if line.startswith("freeze-at "):
                    freeze_at = bytes.fromhex(line.split()[1])
                    print("armed", flush=True)
                    continue
                if line == "thaw":
                    thaw()
                    print("thawed", flush=True)
                    continue
                armed = line
                print("armed", flush=True)
                continue
            assert isinstance(sock, socket.socket)
            if frozen:  # ready in the same round as the freeze: it waits for the thaw
                continue
            if sock is listener:
                client, _addr = listener.accept()
                try:
                    upstream = socket.create_connection((host, target_port))
                except OSError:
                    client.close()
                    continue
                for a, b in ((client, upstream), (upstream, client)):
                    a.setblocking(True)
                    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    peers[a] = b
                    sel.register(a, selectors.EVENT_READ, None)
                clients.add(client)
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            other = peers.get(sock)
            if freeze_at and sock in clients and freeze_at in data and other is not None:
                freeze_at = b""
                held.append((other, data))
                freeze()
                continue
            if sock in clients and any(marker in data for marker in _WRITES):
                wrote.add(sock)
            if armed and sock in wrote and _COMMIT in data:
                deliver(float("inf"))  # what came before the COMMIT goes first
                if armed.startswith("after") and other is not None:
                    other.sendall(data)  # the server commits; its answer never comes back
                    time.sleep(0.2)  # let it arrive before the server sees the socket close
                if armed.endswith("-down"):
                    os._exit(0)  # every connection drops, new ones are refused
                armed = ""
                cuts += 1
                for s in list(peers):  # every connection drops; new ones are welcome
                    sel.unregister(s)
                    s.close()
                peers.clear()
                clients.clear()
                wrote.clear()
                due.clear()
                continue
            if sock in clients and (_COMMIT in data or b"ROLLBACK" in data or not data):
                wrote.discard(sock)  # its transaction ends here (a read-only COMMIT passes)
            if delay:
                # The chunk leaves after the delay; an end of stream too, once what came
                # before it has been delivered: then both sides of the connection close.
                if not data:
                    drop(sock)
                if other is not None:
                    heapq.heappush(
                        due, (time.monotonic() + delay, next(order), other, data or None)
                    )
                continue
            if data and other is not None:
                try:
                    other.sendall(data)
                    continue
                except OSError:
                    pass
            for s in (sock, other):
                if s is not None and s in peers:
                    sel.unregister(s)
                    peers.pop(s, None)
                    clients.discard(s)
                    s.close()
        deliver(time.monotonic())


if __name__ == "__main__":
    delay_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    _serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), delay_ms / 1000)
