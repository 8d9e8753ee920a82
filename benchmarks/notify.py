"""Another station's change, pushed (LISTEN/NOTIFY) against polled once a second (issue #23).

A station learns that the event changed from the change counter (``kiosk.changes``). Before,
every station read it once a second: a change showed half a second later on average, and
every idle station sent the server 60 statements a minute. Now PostgreSQL pushes every
commit's counter value to the stations that LISTEN. Measured on a fresh PostgreSQL database
(the test set-up's server, ``KIOSK_TEST_PG``): one process commits a one-row write (the
counter's bump, the statement every writing transaction ends with), and a ``ChangeWatcher`` in
the same process is polled every millisecond until it reports the new value.

- ``live: commit to the watcher, pushed`` (ms): from the writer sending COMMIT to the watcher
  reporting the value (a window adds at most its 100 ms timer tick).
- ``live: the COMMIT's own round trip (floor)`` (ms), the same sample: the notification is
  sent at commit, so no station can know sooner than the writer itself.
- ``live: pushed, ratio to floor`` (×): sample by sample.
- ``live: commit to the watcher, polled every second (before)`` (ms): the same with LISTEN
  off, as every station did before, each change at a random moment of the poll's second.
- ``live: statements of an idle station, pushed`` / ``polled`` (per minute): what one
  watcher sent while nothing changed, counted by the watcher (10 s, 3 s with ``--quick``,
  scaled to a minute).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks import BenchmarkError, Row, progress

SAMPLES, QUICK_SAMPLES = 30, 8
POLLED_SAMPLES, QUICK_POLLED_SAMPLES = 8, 3
IDLE_S, QUICK_IDLE_S = 10.0, 3.0
BUMP = "UPDATE change_counter SET value = value + 1 WHERE id = 1"


@contextmanager
def _database() -> Iterator[str]:
    import psycopg

    from kiosk.db import open_database

    admin_url = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"kiosk_notify_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise BenchmarkError(f"PostgreSQL is not reachable: {error}") from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
        try:
            open_database(url).dispose()  # migrated: the counter and its trigger
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seen_after_commit(
    writer: object, watcher: object, *, step: float = 0.001
) -> tuple[float, float]:
    """Commit one bump: ms from sending COMMIT until the watcher reports the value it reached,
    and ms until the COMMIT itself returned (the writer's own round trip)."""
    reached = writer.execute(BUMP + " RETURNING value").fetchone()[0]  # type: ignore[attr-defined]
    start = time.perf_counter()
    writer.commit()  # type: ignore[attr-defined]
    committed = (time.perf_counter() - start) * 1000
    end = start + 10
    while time.perf_counter() < end:
        if watcher.poll().value == reached:  # type: ignore[attr-defined]
            return (time.perf_counter() - start) * 1000, committed
        time.sleep(step)
    raise BenchmarkError("the watcher did not see a commit within 10 s")


def _keep_polling(watcher: object, seconds: float) -> None:
    """A window between two changes: its watcher polled every 10 ms."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        watcher.poll()  # type: ignore[attr-defined]
        time.sleep(0.01)


def _idle_per_minute(watcher: object, seconds: float) -> float:
    sent = watcher.queries  # type: ignore[attr-defined]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        watcher.poll()  # type: ignore[attr-defined]
        time.sleep(0.1)  # a window's tick
    return (watcher.queries - sent) * 60 / seconds  # type: ignore[attr-defined]


def run(quick: bool) -> list[Row]:
    pushed = Row("live: commit to the watcher, pushed", "ms", [])
    floor = Row("live: the COMMIT's own round trip (floor)", "ms", [])
    ratio = Row("live: pushed, ratio to floor", "×", [])
    polled = Row("live: commit to the watcher, polled every second (before)", "ms", [])
    idle_pushed = Row("live: statements of an idle station, pushed", "per minute", [])
    idle_polled = Row("live: statements of an idle station, polled", "per minute", [])
    rows = [pushed, floor, ratio, polled, idle_pushed, idle_polled]
    try:
        import psycopg

        from kiosk.changes import ChangeWatcher
        from kiosk.db import open_database

        with _database() as url, psycopg.connect(url) as writer:
            database = open_database(url)
            listening = ChangeWatcher(database.engine)
            polling = ChangeWatcher(database.engine, listen=False)
            try:
                for watcher in (listening, polling):
                    if not watcher.wait().reachable:
                        raise BenchmarkError(f"the watcher cannot connect: {watcher.error}")
                if not listening.listening:
                    raise BenchmarkError("the server refused LISTEN")
                for i in range(QUICK_SAMPLES if quick else SAMPLES):
                    ms, one = _seen_after_commit(writer, listening)
                    floor.samples.append(one)
                    pushed.samples.append(ms)
                    ratio.samples.append(ms / one)
                    polling.poll()  # keeps it current; its own samples come next
                    if i % 10 == 0:
                        progress(f"notify: pushed {ms:.2f} ms, floor {one:.2f} ms")
                for _i in range(QUICK_POLLED_SAMPLES if quick else POLLED_SAMPLES):
                    _keep_polling(polling, random.uniform(0, 1))  # changes come at any time
                    polled.samples.append(_seen_after_commit(writer, polling, step=0.01)[0])
                    listening.poll()
                progress(f"notify: polled {polled.samples}")
                seconds = QUICK_IDLE_S if quick else IDLE_S
                idle_pushed.samples.append(_idle_per_minute(listening, seconds))
                idle_polled.samples.append(_idle_per_minute(polling, seconds))
            finally:
                listening.close()
                polling.close()
                database.dispose()
    except BenchmarkError as error:
        progress(f"notify: FAILED: {error}")
        for row in rows:
            row.samples.clear()
    return rows


if __name__ == "__main__":
    import sys

    for row in run("--quick" in sys.argv):
        values = ", ".join(f"{v:.2f}" for v in row.samples)
        print(f"{row.name} ({row.unit}): {values}")
