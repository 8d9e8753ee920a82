"""The psycopg side of ``kiosk.netwait``: the connection whose every wait for the server has
a deadline, and the error it raises when none came. Apart from ``kiosk.netwait`` so that a
booth laptop, which never opens a PostgreSQL database, needs no psycopg (the booth build
leaves it out); ``kiosk.netwait.NoAnswer`` and ``.BoundedConnection`` still name these."""

from __future__ import annotations

import contextlib
import selectors
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.waiting import Ready

from kiosk.netwait import FIRST_TICK, TICK, _patient, _watchers


class NoAnswer(psycopg.OperationalError):
    """The event database did not answer within the bound; the connection was closed."""


class BoundedConnection(psycopg.Connection):  # type: ignore[type-arg]
    """A psycopg connection whose every wait for the server has a deadline (``bound``)."""

    bound: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        bound = None if _patient.get() else self.bound
        watchers = _watchers.get()
        if timeout is not None or (bound is None and not watchers):
            return super().wait(gen, interval, timeout)
        started = time.monotonic()
        first = FIRST_TICK if watchers else bound
        if bound is not None and first is not None:
            first = min(first, bound)
        try:
            return super().wait(gen, interval, first)
        except pg_errors._WaitTimeout:
            pass  # slow: go on waiting here, saying so, up to the bound
        return self._wait_longer(gen, started, bound, watchers)

    def _wait_longer(
        self,
        gen: Any,
        started: float,
        bound: float | None,
        watchers: tuple[Callable[[float], None], ...],
    ) -> Any:
        fileno = self.pgconn.socket
        try:
            # psycopg's generators answer "nothing ready" with what they wait for.
            state = gen.send(Ready.NONE)
            with selectors.DefaultSelector() as selector:
                selector.register(fileno, state)
                while True:
                    waited = time.monotonic() - started
                    if bound is not None and waited >= bound:
                        break
                    for watcher in watchers:
                        with contextlib.suppress(Exception):  # saying it must not break it
                            watcher(waited)
                    step = TICK if bound is None else min(TICK, bound - waited)
                    ready = 0
                    for _key, events in selector.select(max(step, 0.0)):
                        ready |= events
                    new = gen.send(Ready(ready))
                    if new != state:
                        selector.modify(fileno, new)
                        state = new
        except StopIteration as done:
            return done.value
        gen.close()
        # The protocol is mid-message: the connection cannot be used again. The server
        # rolls back whatever transaction it had open when it sees it go (or when its
        # keepalives or idle_in_transaction_session_timeout end it).
        self.close()
        raise NoAnswer(f"no answer from the server within {bound:g} s; connection closed")
