"""Unit of work: a service's transaction boundary.

As in cosmicpython: a service takes a ``UnitOfWork``, does its reads and writes through
``uow.session`` and calls ``uow.commit()``; anything not committed is rolled back when the
block ends, so an exception half-way leaves the database as it was. Widgets never hold a
session; they call services and refresh from the plain values those return.

When the event database stops answering half-way (the venue LAN is cut, the server restarts),
the driver's error becomes ``DatabaseUnavailable`` with one sentence, like every other refusal:
the station shows it, keeps what was typed, and the same action can simply be tried again.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import exc
from sqlalchemy.orm import Session, sessionmaker

from kiosk.errors import DatabaseBusy, DatabaseUnavailable
from kiosk.i18n import _


def _is_rollback_by_server(error: exc.DBAPIError) -> bool:
    """A deadlock or serialization failure: PostgreSQL chose this transaction to give way."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in ("40001", "40P01")


def translate(error: BaseException, *, committing: bool = False) -> BaseException:
    """The KioskError for a lost connection or a transaction the server gave up, else ``error``."""
    if isinstance(error, exc.DBAPIError) and _is_rollback_by_server(error):
        return DatabaseBusy(
            _(
                "Another station changed the same record at the same moment; nothing was "
                "saved. Try again."
            )
        )
    if isinstance(error, (exc.OperationalError, exc.InterfaceError)) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    ):
        if committing:
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
    return error


class UnitOfWork:
    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # Detach first, so what was read stays readable after the block; the rollback
            # then discards any uncommitted write in the database.
            self.session.expunge_all()
            self.session.rollback()
        except exc.DBAPIError:
            if exc_value is None:
                raise
            # The connection is gone with the transaction; the original error says more.
        finally:
            self.session.close()
        if exc_value is not None:
            replacement = translate(exc_value)
            if replacement is not exc_value:
                raise replacement from exc_value

    def commit(self) -> None:
        try:
            self.session.commit()
        except exc.DBAPIError as error:
            replacement = translate(error, committing=True)
            if replacement is error:
                raise
            raise replacement from error

    def rollback(self) -> None:
        self.session.rollback()
