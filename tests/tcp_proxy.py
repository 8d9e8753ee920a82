"""A TCP proxy in its own process, to cut a station off the database and let it back.

``LanCable`` starts ``python tests/tcp_proxy.py PORT HOST TARGET_PORT`` as a child process that
forwards every connection to PostgreSQL. ``cut()`` kills it: every connection through it drops
at once, as when the laptop serving the event database goes away, and new connections are
refused. ``plug()`` starts it again on the same port. A child process rather than a thread, so
a UI test's interpreter runs no Python thread (Qt objects must never be finalised on one).
"""

from __future__ import annotations

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
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == b"listening"

    def cut(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def __enter__(self) -> LanCable:
        self.plug()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cut()


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
    peers: dict[socket.socket, socket.socket] = {}
    print("listening", flush=True)
    parent = os.getppid()
    while os.getppid() == parent:  # the test process died: go too, never linger
        for key, _events in sel.select(timeout=1.0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
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
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            other = peers.get(sock)
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
                    s.close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
