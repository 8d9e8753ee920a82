"""A TCP proxy in its own process, to cut a station off the database and let it back.

``LanCable`` starts ``python tests/tcp_proxy.py PORT HOST TARGET_PORT`` as a child process that
forwards every connection to PostgreSQL. ``cut()`` kills it: every connection through it drops
at once, as when the laptop serving the event database goes away, and new connections are
refused. ``plug()`` starts it again on the same port. A child process rather than a thread, so
a UI test's interpreter runs no Python thread (Qt objects must never be finalised on one).

``cut_at_commit(deliver, down)`` arms it to drop every connection when a station next sends
COMMIT: with ``deliver`` the COMMIT reaches the server first (the transaction commits, its
answer is lost), without it the server never sees it (the transaction is rolled back). Either
way the station sees the same broken connection, which is the case an idempotency key must
settle. With ``down`` the proxy then stays down (new connections refused: the station cannot
ask either) until ``plug()``; without it, new connections go through at once.
"""

from __future__ import annotations

import contextlib
import os
import selectors
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

    def __init__(self, target_url: str) -> None:
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
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(self.port), self.target_host, str(self.target_port)],
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


def _serve(port: int, host: str, target_port: int) -> None:
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
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    control = sys.stdin.buffer
    sel.register(control, selectors.EVENT_READ, None)
    peers: dict[socket.socket, socket.socket] = {}
    clients: set[socket.socket] = set()
    armed = ""  # "after" / "before": cut at the next COMMIT a client sends
    cuts = 0
    frozen = False
    freeze_at = b""  # freeze when a client sends this
    held: list[tuple[socket.socket, bytes]] = []  # what a freeze_at held back, and for whom

    def freeze() -> None:
        # Nothing is read any more (the selector stops watching), nothing accepted.
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
        for target, data in held:
            with contextlib.suppress(OSError):
                target.sendall(data)
        held.clear()
        for s in [listener, *peers]:
            sel.register(s, selectors.EVENT_READ, None)

    print("listening", flush=True)
    parent = os.getppid()
    while os.getppid() == parent:  # the test process died: go too, never linger
        for key, _events in sel.select(timeout=1.0):
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
            if armed and sock in clients and _COMMIT in data:
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


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
