"""The kiosk's side of the sync: push the outbox, pull a snapshot, seed a demo ledger.

Push sends pending outbox entries oldest first in batches. The ledger applies a batch in one
transaction and answers every entry; the kiosk then marks the batch in one transaction. A push
cut off anywhere, even after the ledger committed and before the kiosk marked, is simply run
again: the ledger answers already-known keys as it did the first time and applies nothing
twice, and nothing pending is skipped because entries are only ever marked from an answer.

One push (or pull) at a time per event database (``sync_lock``): two pushes would read the
same pending entries and send them together, and the ledger would judge every entry twice
(it answers both alike: a batch that meets the other's keys as it writes is applied again,
answered from them, but the work is wasted). The second one stops at once, sends nothing
and says that another push is running: the first sends everything pending. The lock is held
by a connection (PostgreSQL) or an open file (SQLite), so a push that crashes or is killed
releases it with its process.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import (
    Branch,
    Customer,
    OutboxEntry,
    OutboxStatus,
    PointsLot,
)
from kiosk.permissions import Action, require
from kiosk.privacy import SEALED_FIELDS, Opener, open_json
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.gate import event_today
from kiosk.services.ledger_push import Refused, record_push
from kiosk.services.ledger_snapshot import KYC_FIELDS, PullRefused, apply_ledger_snapshot
from sync.ledger import ACCEPTED, Account, Ledger, Lot, Outcome
from sync.transport import LedgerClient


class SyncError(KioskError):
    """A pull or push that must not go ahead; the sentence says why."""


class SyncBusy(SyncError):
    """Another push or pull from this event database is running; this one did nothing."""


# A PostgreSQL advisory lock key of its own (signed 64-bit, like ``kiosk.locks``).
_LOCK_KEY = zlib.crc32(b"kiosk:sync") - 2**31


def _busy() -> SyncBusy:
    return SyncBusy(
        _(
            "Another push to the ledger (or a pull from it) is running from this event "
            "database: another laptop, or the app in the background. This one stopped without "
            "sending or changing anything; the running push sends everything pending. Run it "
            "again when that is done if kiosk sync status still shows entries pending."
        )
    )


@contextmanager
def sync_lock(database: Database) -> Iterator[None]:
    """Hold the event database's sync lock, or raise ``SyncBusy`` at once (never wait: the
    push already running sends what this one would have)."""
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY})
            connection.commit()  # the lock is the session's: no transaction left open
            if not got.scalar():
                raise _busy()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                connection.commit()
        return
    path = database.engine.url.database
    if not path or path == ":memory:":
        yield
        return
    with _file_lock(f"{path}.sync-lock"):
        yield


@contextmanager
def _file_lock(path: str) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if need be) while the block runs."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise _busy() from None
        yield
    finally:
        os.close(fd)  # closing releases the lock on every platform


@dataclass(frozen=True)
class PushReport:
    sent: int
    accepted: int
    rejected: int
    batches: int
    held: int = 0  # sealed entries left pending: the push was not given the passphrase


def pending(database: Database, *, sealed: bool | None = None) -> int:
    """Pending outbox entries; only the sealed ones (True) or only the others (False)."""
    with database.unit_of_work() as uow:
        query = select(func.count(OutboxEntry.id)).where(OutboxEntry.status == OutboxStatus.PENDING)
        if sealed is not None:
            query = query.where(OutboxEntry.sealed.is_(sealed))
        return int(uow.session.scalar(query) or 0)


def _opened(payload: dict[str, Any], sealed: bool, opener: Opener | None) -> dict[str, Any]:
    """The payload as the ledger reads it: sealed changes opened with the passphrase."""
    if not sealed:
        return payload
    assert opener is not None
    opened = {k: v for k, v in payload.items() if k != "sealed_changes"}
    opened["changes"] = open_json(opener, "changes", payload["sealed_changes"])
    return opened


def push(
    database: Database,
    ledger: LedgerClient,
    *,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    max_batches: int | None = None,
    clock: Clock | None = None,
    opener: Opener | None = None,
) -> PushReport:
    """Push every pending outbox entry; safe to run again at any point.

    Entries with sealed personal data (governance changes) go only when ``opener`` is given
    (the event passphrase was typed); otherwise they stay pending, in order, and the report
    says how many were held. They touch KYC fields only, which no other entry does, so
    sending the rest first changes nothing the ledger decides. Raises ``SyncBusy`` when
    another push from this database is running."""
    with sync_lock(database), _heap_frozen():
        return _push(database, ledger, batch_size, progress, max_batches, clock, opener)


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """Keep the cyclic collector from running while the push runs: what the process held
    before is frozen out of its sight (``gc.freeze``), automatic collection is paused
    (``gc.disable``), and at the end what the push made is collected once, then the
    collector and the heap are given back (``gc.enable``, ``gc.unfreeze``).

    A push decodes, judges and marks tens of thousands of entries, and those allocations set
    off the collector's oldest generation, which walks every object in the process: the
    imports, SQLAlchemy's caches, whatever the caller holds. In the sync benchmark (10,000
    entries, two batches) one or two such walks of a 150,000-object heap took 75 to 180 ms of
    a 300 to 500 ms push, more than the ledger's server spent on a batch. Frozen, the heap is
    not walked; but the push's own objects still were, over and over: a batch's payloads live
    while the ledger applies it, so every young collection found them alive and moved them
    on, and the older generations walked them again. In the 100,000-entry push that was
    1,200 young, 110 middle and 10 full collections, 13 % of the kiosk's CPU (2.83 -> 2.46 s),
    to free some 200 objects of garbage cycles in all. Paused, nothing is walked until the
    push ends; the one collection then walks only what the push left (the heap is still
    frozen). Other threads of the process are not collected meanwhile either (the app's
    background push is a process of its own). Left alone when the collector is off or
    something is frozen already (the app freezes its start for good, ``ui.app.settle``;
    unfreezing here would undo that)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()
        gc.unfreeze()


def _push(
    database: Database,
    ledger: LedgerClient,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    max_batches: int | None,
    clock: Clock | None,
    opener: Opener | None,
) -> PushReport:
    """Batches go to the ledger one at a time and in order, but the ledger's work on one
    overlaps the kiosk's on its neighbours: while the ledger applies batch N (in a worker
    thread, waiting on the ledger's server most of the time), this thread records the answers
    to batch N-1 and reads batch N+1 (the next pending entries after N's last id), both once
    the reference ledger has judged N (``_send``: not while it judges). Judging needs the
    interpreter, and the ledger's server inserts the entries meanwhile: recording (SQLite's
    UPDATE of 5,000 rows and its COMMIT) made a third busy thread on a two-core machine and
    lengthened the judging by more than it saved; done after it, it fits in the time the
    ledger's thread waits for its server (100,000 entries: the push 2.15 -> 1.69 s, median
    of six, once judging no longer encoded every payload again). Each
    batch is still marked from its own answer in one transaction after the ledger committed it;
    a push stopped anywhere leaves at most the batch in flight applied and unmarked, as a push
    cut off after the ledger committed always could, and the next push is answered from the
    ledger's keys. An entry committed to a PostgreSQL event database with an id below a batch
    already read (a transaction that took its id earlier and committed later) stays pending for
    the next push, which reads from the start again."""
    # The count is for progress only: read only with a progress callback, and once the
    # first batch is on its way (before, it was time nothing overlapped).
    total = 0
    sent = accepted = rejected = batches = 0
    worker: Executor = _Inline() if _in_memory(ledger) else ThreadPoolExecutor(1, "ledger-push")
    with worker:
        in_flight: Future[list[Outcome]] | None = None
        judged = threading.Event()
        try:
            rows = _pending_batch(database, batch_size, opener, after=0)
            if rows and (max_batches is None or max_batches > 0):
                in_flight, judged = _send(worker, ledger, _entries(rows, opener), _texts(rows))
            if progress is not None:
                total = pending(database) if opener else pending(database, sealed=False)
            while in_flight is not None:
                batches += 1
                judged.wait()
                following: list[Any] = []
                if max_batches is None or batches < max_batches:
                    following = _pending_batch(database, batch_size, opener, after=rows[-1][0])
                next_entries = _entries(following, opener) if following else []
                outcomes = in_flight.result()
                in_flight = None
                if next_entries:
                    in_flight, judged = _send(worker, ledger, next_entries, _texts(following))
                marked, refused = _answered(rows, outcomes)
                judged.wait()  # N+1's judging has the interpreter and a core to itself
                record_push(database.unit_of_work(), marked, refused, clock=clock)
                sent += len(rows)
                accepted += len(marked)
                rejected += len(refused)
                if progress:
                    progress(sent, total)
                rows = following
        finally:
            # Stopped by an error: a batch not sent yet never is; one the ledger has is left to
            # end (leaving the executor waits for it) and stays pending here, answered from the
            # ledger's keys next time.
            if in_flight is not None:
                in_flight.cancel()
    held = 0 if opener else pending(database, sealed=True)
    return PushReport(sent, accepted, rejected, batches, held)


def _send(
    worker: Executor,
    ledger: LedgerClient,
    entries: list[tuple[str, str, dict[str, Any]]],
    texts: list[str | None],
) -> tuple[Future[list[Outcome]], threading.Event]:
    """Give the ledger a batch; the answer to come, and an event set once this thread's own
    work no longer slows the ledger's. The reference ledger also gets the payloads' texts
    as the outbox holds them (``texts``, ``Ledger.apply``): stored as they are, not encoded
    again.

    The kiosk's reading and decoding of the next batch (Python, some 20 ms a batch) and the
    reference ledger's judging of a batch share one interpreter. Done while the ledger
    judges, it took the interpreter from it and lengthened the batch by as much, so the
    overlap gained nothing. The reference ledger says when the batch is judged
    (``Ledger.apply``'s ``judged``): from then on its thread waits for its server (the rest
    of the COPY, the lots, accounts and slips, the COMMIT, some 50 ms), and that work fits
    in the wait. (Marking the last batch does not wait: it is mostly SQLite's work, which
    leaves the interpreter free.) Any other ledger (HTTPS, or an ``apply`` wrapped by a
    test) is not waited for; nor is a batch that ended, even by an error."""
    judged = threading.Event()
    if getattr(ledger.apply, "__func__", None) is Ledger.apply:
        future = worker.submit(ledger.apply, entries, judged=judged.set, texts=texts)
    else:
        future = worker.submit(ledger.apply, entries)
        judged.set()
    future.add_done_callback(lambda _done: judged.set())
    return future, judged


def _answered(rows: list[Any], outcomes: list[Outcome]) -> tuple[list[int], list[Refused]]:
    """The batch's accepted entry ids and its refusals, from the ledger's answer (one per
    row, in order). Nearly every entry is accepted: the refusals are looked for only when the
    answer holds any, and the accepted ids are then every row's (one pass, not three over
    5,000 answers while the ledger's thread waits for the interpreter)."""
    if len(outcomes) != len(rows):
        raise ValueError(f"the ledger answered {len(outcomes)} entries of {len(rows)}")
    statuses = [o.status for o in outcomes]
    if statuses.count(ACCEPTED) == len(statuses):
        return [row[0] for row in rows], []
    marked: list[int] = []
    refused: list[Refused] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.status == ACCEPTED:
            marked.append(row[0])
        else:
            refused.append(Refused(row[0], outcome.reason))
    return marked, refused


def _in_memory(ledger: LedgerClient) -> bool:
    """A ledger in an in-memory SQLite database (a test's): each thread would see its own
    empty one, so its batches are applied in this thread."""
    engine = getattr(ledger, "engine", None)
    url = getattr(engine, "url", None)
    return (
        url is not None
        and url.get_backend_name() == "sqlite"
        and url.database in (None, "", ":memory:")
    )


class _Inline(Executor):
    """Runs each call at once in this thread: no overlap, the same order and answers."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # the caller's result() raises it, as a thread's would
            future.set_exception(error)
        return future


def _pending_batch(
    database: Database, batch_size: int, opener: Opener | None, *, after: int
) -> list[Any]:
    """The next ``batch_size`` pending entries after id ``after``, oldest first (sealed ones
    only with the passphrase): (id, key, kind, payload text, sealed) tuples.

    Read through the driver's cursor on the unit of work's connection (its transaction),
    as plain tuples: SQLAlchemy's result rows for a batch of 5,000 took 15 ms where the
    driver's own fetch took 5 (the interpreter's time, which the ledger's thread needs too).
    ``sealed`` is the driver's value (SQLite: 0 or 1), read only for its truth."""
    table = OutboxEntry.__table__
    with database.unit_of_work() as uow:
        connection = uow.session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        sealed = "" if opener else f" AND sealed = {mark}"
        statement = (
            f"SELECT id, idempotency_key, kind, payload, sealed FROM {table.name} "
            f"WHERE status = {mark} AND id > {mark}{sealed} ORDER BY id LIMIT {mark}"
        )
        parameters = [OutboxStatus.PENDING.value, after, *([] if opener else [False])]
        cursor = connection.connection.cursor()
        try:
            cursor.execute(statement, (*parameters, batch_size))
            return list(cursor.fetchall())
        finally:
            cursor.close()


def _entries(rows: list[Any], opener: Opener | None) -> list[tuple[str, str, dict[str, Any]]]:
    """The batch as the ledger takes it. The payloads are decoded with one ``json.loads`` of
    the batch (each is a JSON object as ``kiosk.audit.canonical_json`` wrote it): half the
    time of one call per entry."""
    payloads = json.loads("[" + ",".join(row[3] for row in rows) + "]")
    return [
        (key, kind, _opened(payload, sealed, opener) if sealed else payload)
        for (_id, key, kind, _text, sealed), payload in zip(rows, payloads, strict=True)
    ]


def _texts(rows: list[Any]) -> list[str | None]:
    """The payloads' texts as the outbox holds them (``kiosk.audit.canonical_json``'s), each
    the text its entry's payload was decoded from; None for a sealed one, whose payload the
    ledger gets opened."""
    return [None if row[4] else row[3] for row in rows]


@dataclass(frozen=True)
class PullReport:
    updated: int
    missing: list[str]
    as_of: datetime


def pull(
    database: Database,
    ledger: LedgerClient,
    staff: StaffSession | None,
    *,
    clock: Clock | None = None,
    station: str = "sync",
) -> PullReport:
    """Refresh every customer of the event from the ledger: points lot by lot, AUM, tier,
    mobile banking and KYC fields, with the as-of time, and the bank's whole points stock.
    The write is ``kiosk.services.ledger_snapshot``'s (a supervisor's; search keys and audit
    as for every writer of customers). Refused while anything is unpushed: the snapshot would
    not include it and the event would count it twice or lose it. Raises ``SyncBusy`` while a
    push from this database runs."""
    require(staff, Action.PULL_LEDGER)  # before the ledger is asked for anything
    with sync_lock(database):
        return _pull(database, ledger, staff, clock, station)


def _pull(
    database: Database,
    ledger: LedgerClient,
    staff: StaffSession | None,
    clock: Clock | None,
    station: str,
) -> PullReport:
    waiting = pending(database)
    if waiting:
        if pending(database, sealed=True):
            raise SyncError(
                _(
                    "{n} entries are not pushed yet, some with sealed personal data; push them "
                    "with the event passphrase first (KIOSK_PASSPHRASE=… kiosk sync push)."
                ).format(n=waiting)
            )
        raise SyncError(
            _("{n} entries are not pushed yet; push them first (kiosk sync push).").format(
                n=waiting
            )
        )
    with database.unit_of_work() as uow:
        numbers = list(uow.session.scalars(select(Customer.customer_no)))
        # Balances and the stock as on the event's day, not the day the pull runs.
        today = event_today(current_event(uow.session), clock)
    accounts = ledger.accounts(numbers, today)
    stock = ledger.points_stock(today)
    try:
        applied = apply_ledger_snapshot(
            database.unit_of_work(),
            staff,
            accounts,
            clock=clock,
            station=station,
            points_stock=stock,
        )
    except PullRefused as refused:
        raise SyncError(str(refused)) from None
    found = {account.customer_no for account in accounts}
    return PullReport(applied.updated, sorted(set(numbers) - found), applied.as_of)


def accounts_from_event(database: Database, opener: Opener) -> list[Account]:
    """The event's customers as ledger accounts: seeds a demo or rehearsal ledger. The full
    phones and IDs need the event passphrase (``opener``). Each account carries the
    customer's lots as the snapshot holds them (a customer without lots: one lot "" of the
    balance, no expiry) and AUM."""
    with database.unit_of_work() as uow:
        s = uow.session
        current_event(s)
        lots: dict[int, list[Lot]] = {}
        for customer_id, ref, points, expires_on in s.execute(
            select(PointsLot.customer_id, PointsLot.ref, PointsLot.points, PointsLot.expires_on)
        ):
            lots.setdefault(customer_id, []).append(Lot(ref, int(points), expires_on))
        result = []
        for customer, branch in s.execute(
            select(Customer, Branch.code).join(Branch, Branch.id == Customer.branch_id)
        ):
            kyc = {}
            for field in KYC_FIELDS:
                if field in SEALED_FIELDS:
                    value = opener.read(customer, field)
                else:
                    value = getattr(customer, field)
                kyc[field] = value.isoformat() if hasattr(value, "isoformat") else value
            result.append(
                Account(
                    customer.customer_no,
                    customer.name,
                    branch,
                    customer.tier,
                    customer.points_balance,
                    customer.mobile_banking,
                    kyc,
                    customer.balance_as_of or datetime.now().astimezone(),
                    tuple(lots.get(customer.id, ())) or (Lot("", customer.points_balance),),
                    customer.aum,
                )
            )
        return result
