"""The ledger a ``--ledger`` string names: the HTTPS service, or a database for rehearsals.

``https://…`` is how a kiosk reaches a bank (``sync.http_ledger``); ``http://…`` only reaches
``kiosk ledger serve --insecure-http`` on a rehearsal's own network; a database URL
(``postgresql://…``, ``sqlite:///…``) opens the reference ledger directly, which no bank hands
an event laptop: rehearsals and the demo only. ``sync.push`` works with any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Protocol

from kiosk.i18n import _
from sync.ledger import Account, Ledger, Outcome


class LedgerClient(Protocol):
    """What push and pull ask of a ledger, whichever way it is reached."""

    def apply(
        self, entries: Sequence[tuple[str, str, dict[str, Any]]], today: date | None = None
    ) -> list[Outcome]: ...

    def accounts(self, customer_nos: Sequence[str], today: date | None = None) -> list[Account]: ...

    def points_stock(self, today: date | None = None) -> int: ...

    def dispose(self) -> None: ...


def is_http(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


def open_ledger(
    url: str,
    *,
    event: str,
    token: Callable[[], str],
    ca_file: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> LedgerClient:
    """The ledger ``url`` names, for ``event``; ``token`` is asked only for the HTTPS
    service, ``warn`` hears that a database URL or plain HTTP is for rehearsals only."""
    if not is_http(url):
        if warn:
            warn(
                _(
                    "The ledger is opened by its database URL: for rehearsals and the demo "
                    "only. A bank's ledger is reached over HTTPS (--ledger https://…)."
                )
            )
        return Ledger.open(url)
    from sync.http_ledger import HttpLedger

    if url.lower().startswith("http://") and warn:
        warn(_("The ledger is reached over plain HTTP, unencrypted: for a local rehearsal only."))
    ledger = HttpLedger(
        url, token(), event, ca_file=ca_file, client_cert=client_cert, client_key=client_key
    )
    try:
        ledger.status()  # a wrong token, certificate or address is said before anything else
    except BaseException:
        ledger.dispose()
        raise
    return ledger
