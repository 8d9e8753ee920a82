"""The booth gateway on loopback over HTTPS, for the booth tests.

``gateway`` runs the real uvicorn server of ``gateway.booth_api`` with TLS in a background
thread on a free port (as ``tests.ledger_http_support.serving`` runs the ledger), with the
test PKI made by ``cryptography`` (``make_pki``: a CA and a server certificate for
127.0.0.1). ``GatewayCable`` runs it in a child process instead, to be cut and started again
on the same port: the gateway laptop going away mid-action, and a UI test's interpreter runs
no Python thread of its own (Qt objects must never be finalised on one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from gateway.booth_api import server
from kiosk.clock import Clock, FixedClock
from kiosk.db import open_database
from tests.ledger_http_support import Pki, make_pki
from tests.tcp_proxy import free_port

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["GatewayCable", "Pki", "gateway", "make_pki"]


@contextmanager
def gateway(url: str, pki: Pki, clock: Clock | None = None) -> Iterator[str]:
    """The booth gateway over the event database ``url`` on https://127.0.0.1:PORT while the
    block runs."""
    database = open_database(url)
    port = free_port()
    instance = server(
        database,
        host="127.0.0.1",
        port=port,
        cert=str(pki.server_cert),
        key=str(pki.server_key),
        clock=clock,
        log_level="critical",
    )
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the booth gateway did not start")
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(20)
        database.dispose()


class GatewayCable:
    """The gateway in a child process (``python -m tests.gateway_support``) on a fixed port:
    ``cut()`` kills it, ``plug()`` starts it again; its clock is fixed at ``at``."""

    def __init__(self, url: str, pki: Pki, at: datetime) -> None:
        self.db_url = url
        self.pki = pki
        self.at = at
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def plug(self) -> None:
        if self.process is not None:
            return
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.gateway_support",
                self.db_url,
                str(self.port),
                str(self.pki.server_cert),
                str(self.pki.server_key),
                self.at.isoformat(),
            ],
            cwd=ROOT,
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

    def __enter__(self) -> GatewayCable:
        self.plug()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cut()


def _serve(url: str, port: int, cert: str, key: str, at: str) -> None:
    database = open_database(url)
    instance = server(
        database,
        host="127.0.0.1",
        port=port,
        cert=cert,
        key=key,
        clock=FixedClock(datetime.fromisoformat(at)),
        log_level="critical",
    )
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        if not thread.is_alive():
            raise SystemExit("the booth gateway did not start")
        time.sleep(0.02)
    print("listening", flush=True)
    parent = os.getppid()
    while os.getppid() == parent and thread.is_alive():  # the test died: go too, never linger
        time.sleep(0.5)


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
