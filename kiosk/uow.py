"""Unit of work: a service's transaction boundary.

As in cosmicpython: a service takes a ``UnitOfWork``, does its reads and writes through
``uow.session`` and calls ``uow.commit()``; anything not committed is rolled back when the
block ends, so an exception half-way leaves the database as it was. Widgets never hold a
session; they call services and refresh from the plain values those return.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker


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
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # Detach first, so what was read stays readable after the block; the rollback
            # then discards any uncommitted write in the database.
            self.session.expunge_all()
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
