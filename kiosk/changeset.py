"""What one service call changed: the records a station may be showing.

Every service that writes returns a ``Changes`` (directly, or as the ``changes`` field of its
result): which queues, visits, customers, offers and slips it touched, and ``setup`` when it
changed the event's set-up (imports, staff, requirements, closing), which every station shows
some of. A station that acted refreshes only what the value names, once, and the window
passes it to the call display; nobody has to guess from the action's name what to re-read.
(Anki's collection operations return ``OpChanges`` for the same reason.)

Not to be confused with ``kiosk.changes``: that is the event database's change counter, which
tells the *other* laptops that something changed; this is what *this* call changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TypeVar

T = TypeVar("T")


def _set(values: Iterable[T] | None) -> frozenset[T]:
    return frozenset(v for v in (values or ()) if v is not None)


@dataclass(frozen=True)
class Changes:
    """The records one service call touched (empty: it changed nothing a station shows)."""

    queues: frozenset[str] = frozenset()  # Queue values whose waiting list changed
    visits: frozenset[int] = frozenset()  # visit ids (steps, route, timeline)
    customers: frozenset[int] = frozenset()  # customer ids (details, balance, gate)
    offers: frozenset[str] = frozenset()  # offer codes (what is left)
    slips: frozenset[int] = frozenset()  # slip serials
    setup: bool = False  # the event's set-up (imports, staff, requirements): reload everything

    @classmethod
    def of(
        cls,
        *,
        queues: Iterable[str | None] | None = None,
        visits: Iterable[int | None] | None = None,
        customers: Iterable[int | None] | None = None,
        offers: Iterable[str | None] | None = None,
        slips: Iterable[int | None] | None = None,
        setup: bool = False,
    ) -> Changes:
        """Build from any iterables; None entries (an optional visit, say) are left out."""
        return cls(
            frozenset(str(q) for q in _set(queues)),
            _set(visits),
            _set(customers),
            frozenset(str(o) for o in _set(offers)),
            _set(slips),
            setup,
        )

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.queues | other.queues,
            self.visits | other.visits,
            self.customers | other.customers,
            self.offers | other.offers,
            self.slips | other.slips,
            self.setup or other.setup,
        )

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def kinds(self) -> frozenset[str]:
        """The names of the kinds touched ("queues", "slips", ...), for routing."""
        return frozenset(f.name for f in fields(self) if getattr(self, f.name))


NOTHING = Changes()


class ChangedList(list[T]):
    """A service's list result that also says what changed: callers that use it as the list
    it always was keep working, and ``changes`` is there for those that route it."""

    changes: Changes

    def __init__(self, items: Iterable[T] = (), changes: Changes = NOTHING) -> None:
        super().__init__(items)
        self.changes = changes
