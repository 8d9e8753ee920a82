"""A push to a points ledger that stops answering (issue #26): the TCP proxy in front of the
PostgreSQL ledger is SIGSTOPped, so connections stay open and nothing answers. The push ends
within its bound (kiosk.netwait's command bound, set to 2 seconds here) with a sentence, and
the outbox stays unsent: nothing the ledger did not confirm is marked. On PostgreSQL, where
the ledger is a server; a file ledger cannot freeze this way.

The tests check that the push ENDS (a thread joined, a process waited for, with generous
limits that only a hang exceeds), not how fast: timings belong in benchmarks/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk import privacy
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import KioskError
from kiosk.models import OutboxEntry, OutboxStatus
from sync.ledger import Ledger, LedgerError
from sync.ledger import entry as ledger_entry
from sync.push import accounts_from_event, pending, push
from tests.booth_support import MORNING, issue
from tests.tcp_proxy import LanCable

pytestmark = pytest.mark.pg

ROOT = Path(__file__).resolve().parents[2]
BOUND = 2.0
ENDS_WITHIN = 90.0
CLOCK = FixedClock(MORNING)
COMMAND = [sys.executable, "-m", "cli", "--lang", "en"]  # only a hang gets anywhere near this


@pytest.fixture
def event_db(pg_demo_url: str) -> Iterator[Database]:
    database = open_database(pg_demo_url)
    issue(database, ["O101", "O102"])  # slips: outbox entries to push
    yield database
    database.dispose()


@pytest.fixture
def ledger_url(pg_url: str, event_db: Database) -> str:
    ledger = Ledger.open(pg_url, create=True)
    try:
        opener = privacy.unlock(event_db.unit_of_work(), DEMO_PASSPHRASE)
        ledger.upsert_accounts(accounts_from_event(event_db, opener))
    finally:
        ledger.dispose()
    return pg_url


def _sent(database: Database) -> int:
    with database.unit_of_work() as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.status != OutboxStatus.PENDING)
            )
            or 0
        )


def _ledger_entries(url: str) -> int:
    ledger = Ledger.open(url)
    try:
        with ledger.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(ledger_entry)) or 0)
    finally:
        ledger.dispose()


def test_a_push_to_a_ledger_frozen_mid_way_ends_within_the_bound_and_marks_nothing(
    event_db: Database, ledger_url: str
) -> None:
    waiting, sent = pending(event_db, sealed=False), _sent(event_db)
    assert waiting > 0
    with LanCable(ledger_url) as cable:
        ledger = Ledger.open(cable.url, bound=BOUND)  # connected while the ledger answers
        cable.stop()  # then it freezes: TCP open, nothing answers
        outcome: list[BaseException | object] = []

        def pushing() -> None:
            try:
                outcome.append(push(event_db, ledger, clock=CLOCK))
            except BaseException as error:  # the test reads it below
                outcome.append(error)

        worker = threading.Thread(target=pushing, daemon=True)
        worker.start()
        worker.join(ENDS_WITHIN)
        assert not worker.is_alive(), "the push to a frozen ledger never ended"
        cable.resume()
        ledger.dispose()
    (error,) = outcome
    assert isinstance(error, LedgerError), repr(error)
    assert "did not answer within 2 seconds" in str(error)
    assert "\n" not in str(error)
    # Nothing half-marked: every entry still pending, none sent, none on the ledger.
    assert (pending(event_db, sealed=False), _sent(event_db)) == (waiting, sent)
    assert _ledger_entries(ledger_url) == 0
    # The ledger back: the same push sends everything, once.
    again = Ledger.open(ledger_url)
    try:
        report = push(event_db, again, clock=CLOCK)
    finally:
        again.dispose()
    assert report.accepted == waiting and pending(event_db, sealed=False) == 0


def test_the_sync_push_command_ends_on_a_frozen_ledger_with_a_sentence(
    event_db: Database, ledger_url: str, pg_demo_url: str
) -> None:
    """The command line, from its first connection: the proxy is stopped before it starts."""
    waiting = pending(event_db, sealed=False)
    environment = {
        **os.environ,
        "KIOSK_COMMAND_BOUND": str(BOUND),
        "PYTHONPATH": str(ROOT),
        "KIOSK_PASSPHRASE": "",
    }
    with LanCable(ledger_url) as cable:
        cable.stop()
        try:
            done = subprocess.run(
                [*COMMAND, "--db", pg_demo_url, "sync", "push", "--ledger", cable.url],
                capture_output=True,
                text=True,
                env=environment,
                timeout=ENDS_WITHIN,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            cable.resume()
    assert done.returncode == 1, done
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("kiosk: The points ledger"), done.stderr
    assert "Traceback" not in done.stderr
    assert pending(event_db, sealed=False) == waiting


def test_ledger_errors_are_kiosk_errors() -> None:
    """What the command line prints as a sentence (cli.main) is a KioskError."""
    assert issubclass(LedgerError, KioskError)
