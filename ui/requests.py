"""Request ids for the stations' actions, kept until the action's outcome is known.

A station asks ``PendingRequests.id_for(subject)`` before each try of an action (F9 for a
customer's cart, Enter for a scanned slip, Ctrl+S for a customer's form, a check-in): the
first try gets a new id, and every later try gets the same one until ``settle`` is called
with a definite answer (done, or refused: nothing saved). So when a try ends with the outcome
unknown (``OutcomeUnknown``: the connection dropped at COMMIT and could not be asked again),
pressing the key again repeats the same request, which the service answers with the first
result if the first try went through, instead of acting twice (``kiosk.idempotency``).
"""

from __future__ import annotations

from collections.abc import Hashable

from kiosk.idempotency import new_request_id


class PendingRequests:
    def __init__(self) -> None:
        self._ids: dict[Hashable, str] = {}

    def id_for(self, subject: Hashable) -> str:
        if subject not in self._ids:
            self._ids[subject] = new_request_id()
        return self._ids[subject]

    def pending(self, subject: Hashable) -> bool:
        return subject in self._ids

    def settle(self, subject: Hashable) -> None:
        self._ids.pop(subject, None)
