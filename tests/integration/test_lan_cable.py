"""The slow LAN of ``tests.tcp_proxy``: ``LanCable(url, delay_ms=...)`` forwards every chunk
that much later in each direction. The LAN benchmark's figures and the concurrency test across
a LAN rely on it doing that and nothing else: never sooner, every byte, in order, and a
connection's end passed on like its data."""

from __future__ import annotations

import hashlib
import time

import psycopg
import pytest

from tests.tcp_proxy import LanCable

pytestmark = pytest.mark.pg

DELAY_MS = 5.0


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.mark.timeout(60)  # a connection's end not passed on leaves the station hanging
def test_a_delayed_cable_delays_each_way_and_keeps_every_byte_in_order(pg_url: str) -> None:
    with (
        LanCable(pg_url, delay_ms=DELAY_MS) as cable,
        psycopg.connect(_plain(cable.url), autocommit=True) as connection,
    ):
        for _ in range(5):
            started = time.perf_counter()
            assert connection.execute("SELECT 1").fetchone() == (1,)
            # Never sooner than there and back: the round trip the benchmark says it runs at.
            # A lower bound, about what the cable does; a busy machine only adds to it.
            assert time.perf_counter() - started >= 2 * DELAY_MS / 1000
        # An answer of many chunks and a request of many arrive whole and in order.
        numbers = connection.execute(
            "SELECT string_agg(g::text, ',') FROM generate_series(1, 300000) g"
        ).fetchone()
        assert numbers is not None
        assert numbers[0].split(",") == [str(i) for i in range(1, 300_001)]
        sent = "x".join(str(i) for i in range(200_000))
        digest = connection.execute("SELECT md5(%s)", (sent,)).fetchone()
        assert digest == (hashlib.md5(sent.encode()).hexdigest(),)
        backend = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert backend is not None
        # The server ends the connection: the station sees it end (not a query left hanging).
        with psycopg.connect(_plain(pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", backend)
        with pytest.raises(psycopg.OperationalError):
            connection.execute("SELECT 1")


def test_a_delayed_cable_can_still_be_cut_at_a_commit(pg_url: str) -> None:
    """The delay does not change what ``cut_at_commit`` does: the COMMIT delivered, then the
    connection dropped, after what came before it."""
    with psycopg.connect(_plain(pg_url), autocommit=True) as admin:
        admin.execute("CREATE TABLE t (n integer)")
    with LanCable(pg_url, delay_ms=DELAY_MS) as cable:
        connection = psycopg.connect(_plain(cable.url))
        connection.execute("INSERT INTO t VALUES (1)")
        cable.cut_at_commit(deliver=True, down=False)
        with pytest.raises(psycopg.OperationalError):
            connection.commit()
        connection.close()
        assert cable.cuts() == 1
        # New connections go through at once, and the delivered COMMIT committed.
        with psycopg.connect(_plain(cable.url), autocommit=True) as again:
            assert again.execute("SELECT n FROM t").fetchall() == [(1,)]
