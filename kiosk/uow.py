"""Unit of work: a service's transaction boundary.

As in cosmicpython: a service takes a ``UnitOfWork``, does its reads and writes through
``uow.session`` and calls ``uow.commit()``; anything not committed is rolled back when the
block ends, so an exception half-way leaves the database as it was. (On PostgreSQL a block
that only read ends with COMMIT instead, which changes nothing and keeps the connection's
prepared statements: ``kiosk.readonly``.) Widgets never hold a session; they call services
and refresh from the plain values those return.

When a write fails, the driver's error becomes a ``KioskError`` with one sentence that names
the cause and what to do (``kiosk.storage``): the disk is full (SQLite's ``SQLITE_FULL``,
PostgreSQL's "could not extend file"), read-only, not writable for this user, or the event
database server stopped answering (the venue LAN is cut, the server restarts). The station
shows it, keeps what was typed, and the same action can simply be tried again.

A failed COMMIT can leave its outcome unknown: the disk filled while SQLite wrote the WAL,
or the connection dropped after PostgreSQL received the COMMIT. An action with a request id
(``kiosk.idempotency``) registered how to find out; ``commit`` asks before anything is said:
done means the service goes on and returns its result, not done means "nothing was saved"
with the cause, and only when the database cannot be asked at all is the outcome reported
unknown (``OutcomeUnknown``), with the assurance that doing it again acts once.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy import exc
from sqlalchemy.orm import Session, sessionmaker

from kiosk import dbroles, idempotency, netwait, readonly, storage
from kiosk.errors import (
    DatabaseBusy,
    DatabaseUnavailable,
    KioskError,
    OutcomeUnknown,
    ValueTooLong,
)
from kiosk.i18n import _, sentences
from kiosk.storage import Cause, Place, StorageError


def _is_rollback_by_server(error: exc.DBAPIError) -> bool:
    """A deadlock or serialization failure: PostgreSQL chose this transaction to give way."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in ("40001", "40P01")


def _gave_up_waiting(error: exc.DBAPIError) -> bool:
    """A station's statement_timeout or lock_timeout (``kiosk.netwait``): the server ended a
    statement that waited too long, and the transaction with it; the connection is fine."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in ("57014", "55P03")


def _too_long(error: exc.DBAPIError) -> bool:
    """PostgreSQL's string_data_right_truncation, or SQLite in strict mode (``kiosk.lengths``)."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code == "22001" or "value too long for type" in str(error.orig)


def _lost(error: BaseException) -> bool:
    return isinstance(error, (exc.OperationalError, exc.InterfaceError)) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    )


def translate(
    error: BaseException,
    *,
    committing: bool = False,
    place: Place | None = None,
    saved: bool | None = None,
    request_id: str = "",
) -> BaseException:
    """The KioskError for a failed write, else ``error`` itself.

    ``saved`` is what a probe found out about a failed COMMIT: False (nothing was saved),
    None (not asked, or it could not be asked).
    """
    if isinstance(error, exc.DBAPIError) and _is_rollback_by_server(error):
        return DatabaseBusy(
            _(
                "Another station changed the same record at the same moment; nothing was "
                "saved. Try again."
            )
        )
    if not isinstance(error, exc.DBAPIError):
        return error
    if _gave_up_waiting(error):
        return DatabaseBusy(
            _(
                "The event database took too long to answer (another station may be holding "
                "the same record); nothing was saved. Try again in a moment."
            )
        )
    if dbroles.is_permission_error(error):
        # A station's account asked for more than it was granted (``kiosk.dbroles``).
        return dbroles.refused(error)
    if _too_long(error):
        return ValueTooLong(
            _(
                "A value is longer than the event database can hold; nothing was saved. "
                "Shorten what was typed and try again, or report this."
            )
        )
    cause = storage.cause_of(error, place)
    if cause is None and _lost(error):
        cause = Cause.CONNECTION
    if cause is None:
        return error
    # A full, read-only or forbidden disk refuses the write itself, and both databases roll
    # the transaction back (SQLite's WAL never holds half a commit: its commit frame is
    # written last). A connection cut or an I/O error at COMMIT (the fsync after the commit
    # frame) may have lost only the reply: that outcome is unknown unless a probe answered.
    unknown = committing and saved is None and cause in (Cause.CONNECTION, Cause.DISK_IO)
    if cause == Cause.CONNECTION:
        if unknown and request_id:
            return OutcomeUnknown(
                _(
                    "The connection to the event database was lost while saving, and it cannot "
                    "be checked yet whether this was saved. Do the same again once the "
                    "connection is back: it will not be done twice."
                ),
                request_id=request_id,
            )
        if unknown:
            return DatabaseUnavailable(
                _(
                    "The connection to the event database was lost while saving; the change "
                    "may or may not have been saved. Check before doing it again."
                )
            )
        return DatabaseUnavailable(
            _(
                "The event database cannot be reached right now; nothing was saved. What you "
                "entered is still here: try again in a moment."
            )
        )
    where = place or Place(_("the database's disk"))
    done = _("It is not known whether this was saved.") if unknown else _("Nothing was saved.")
    return StorageError(sentences(done, storage.what_to_do(cause, where)), cause=cause, place=where)


class UnitOfWork:
    """One transaction of a service. ``patient`` for the coordinator's long work (an export
    of the whole event, a report): no desk action's bound on its waits (``kiosk.netwait``)."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session], *, patient: bool = False) -> None:
        self._factory = session_factory
        self._patient = patient
        self._waits = contextlib.ExitStack()

    def __enter__(self) -> Self:
        if self._patient:
            self._waits.enter_context(netwait.patient())
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # A block that only read ends with COMMIT on PostgreSQL, which keeps the
            # connection's prepared statements (kiosk.readonly); asked before the detach.
            ending = readonly.ending(self.session) if exc_value is None else None
            # Detach first, so what was read stays readable after the block; the rollback
            # then discards any uncommitted write in the database.
            self.session.expunge_all()
            if ending in (readonly.Ending.COMMIT, readonly.Ending.COMMIT_LOCKS):
                try:
                    if ending is readonly.Ending.COMMIT_LOCKS:
                        readonly.end_locks(self.session)
                    self.session.commit()
                except exc.DBAPIError:
                    # It only read: nothing is lost, and what it read stands. A connection
                    # lost meanwhile is dropped quietly, as the rollback it replaces did.
                    self.session.rollback()
            else:
                self.session.rollback()
        except exc.DBAPIError:
            if exc_value is None:
                raise
            # The connection is gone with the transaction; the original error says more.
        finally:
            self.session.close()
            self._waits.close()
        if exc_value is not None:
            replacement = translate(exc_value, place=self.place())
            if replacement is not exc_value:
                raise replacement from exc_value

    def place(self) -> Place | None:
        """Where this database's data is written (its file's disk, or the server)."""
        try:
            return storage.database_place(self.session.get_bind().url)
        except Exception:  # never let naming the place hide the error being reported
            return None

    def commit(self) -> None:
        """Commit, and when the COMMIT fails find out whether it landed all the same."""
        try:
            self.session.commit()
        except exc.DBAPIError as error:
            expected = idempotency.expected(self.session)
            saved: bool | None = None
            request_id = ""
            if expected is not None:
                request_id, probe = expected
                with contextlib.suppress(exc.DBAPIError):  # the connection may be gone
                    self.session.rollback()
                try:
                    saved = probe(self.session.get_bind())  # type: ignore[arg-type]
                except (exc.DBAPIError, KioskError):
                    saved = None  # cannot be asked now: the outcome stays unknown
                if saved:
                    return  # it committed: the reply was lost, not the change
            replacement = translate(
                error, committing=True, place=self.place(), saved=saved, request_id=request_id
            )
            if replacement is error:
                raise
            raise replacement from error
        idempotency.forget(self.session)

    def rollback(self) -> None:
        self.session.rollback()


class SharedRead(UnitOfWork):
    """Several reads in one transaction: a station's refresh after an action.

    Every service handed this unit of work inside one ``with`` block shares its session, so
    the queue, the called customer and the timeline a station shows come from one
    transaction (one ``BEGIN`` and one connection from the pool) and agree with each other.
    The services need no change: a nested ``with uow:`` only counts its depth. It never
    writes; ``commit`` refuses.
    """

    def __init__(self, session_factory: sessionmaker[Session], *, patient: bool = False) -> None:
        super().__init__(session_factory, patient=patient)
        self._depth = 0

    def __enter__(self) -> Self:
        if self._depth == 0:
            super().__enter__()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            super().__exit__(exc_type, exc_value, tb)

    def commit(self) -> None:
        raise RuntimeError("a shared read never writes: give the service its own unit of work")
