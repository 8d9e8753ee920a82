"""The kiosk as a client of the ledger's HTTPS service (sync/api.py): push and pull by API.

``HttpLedger`` answers what ``sync.push`` asks of a ledger (``apply``, ``accounts``,
``points_stock``, ``dispose``), so push and pull keep their exactly-once rule unchanged: the
kiosk marks outbox entries only from answers it received, and a batch sent again after a cut
is answered from its idempotency keys.

Network errors, timeouts and 5xx answers are tried again with exponential backoff (a few
tries, bounded); a 4xx answer never is (a wrong token stays wrong). A TLS failure (unknown CA,
expired certificate, a client certificate the service refuses) is said as such at once; so is
an answer that is not the API's JSON (a captive portal's HTML page, a proxy's error page).
Every failure raises ``LedgerError`` with one sentence, before anything is marked.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx

from kiosk import netwait
from kiosk.i18n import _
from kiosk.lan_tls import ssl_cause, tls_reason
from sync.ledger import ACCEPTED, REJECTED, Account, LedgerError, Lot, Outcome


class LedgerAnswerError(LedgerError):
    """The service answered something that is not the ledger's API; nothing was marked."""


class LedgerAuthError(LedgerError):
    """The service refused the token (or the token is for another event)."""


class LedgerTLSError(LedgerError):
    """The TLS connection failed: certificate unknown, expired or refused."""


PAGE = 1000


class HttpLedger:
    """The ledger's HTTPS API for one event, reached with that event's token."""

    def __init__(
        self,
        url: str,
        token: str,
        event: str,
        *,
        ca_file: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        tries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.event = event
        # A service that stops answering (TCP open, nothing comes back) ends a call within
        # ``bound`` seconds (kiosk.netwait's command bound): each read waits that long at
        # most, and no try starts once the call has lasted that long.
        self.bound = netwait.command_bound() if read_timeout is None else read_timeout
        connect = netwait.COMMAND_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        self.tries = max(1, tries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._stock: dict[date, int] = {}
        self._client_cert = client_cert
        if client_cert:
            _check_not_expired(client_cert)
        try:
            context = ssl.create_default_context(cafile=ca_file)
            if client_cert:
                context.load_cert_chain(client_cert, client_key)
        except (OSError, ssl.SSLError) as error:
            raise LedgerTLSError(
                _("The certificate files for the ledger cannot be read: {reason}").format(
                    reason=error
                )
            ) from None
        self.client = httpx.Client(
            base_url=self.url,
            verify=context,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.bound, connect=connect),
            follow_redirects=False,
        )

    def dispose(self) -> None:
        self.client.close()

    # -- what sync.push asks ---------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The service's status; checks that the token stands for this event."""
        body = self._call("GET", "/v1/status")
        if body.get("event") != self.event:
            raise LedgerAuthError(
                _(
                    "The ledger token is for event {theirs}, but this is event {ours}; "
                    "ask the bank for this event's token."
                ).format(theirs=body.get("event"), ours=self.event)
            )
        return body

    def apply(
        self, entries: Sequence[tuple[str, str, dict[str, Any]]], today: date | None = None
    ) -> list[Outcome]:
        """Send a batch; the outcomes, in order, only when the answer names every entry."""
        keys = [key for key, _kind, _payload in entries]
        body = self._call(
            "POST",
            f"/v1/events/{self.event}/entries",
            json={
                "entries": [
                    {"key": key, "kind": kind, "payload": payload} for key, kind, payload in entries
                ]
            },
        )
        try:
            outcomes = [
                Outcome(str(o["key"]), str(o["status"]), str(o.get("reason") or ""))
                for o in body["outcomes"]
            ]
        except (KeyError, TypeError):
            raise self._garbage("outcomes") from None
        if [o.key for o in outcomes] != keys or any(
            o.status not in (ACCEPTED, REJECTED) for o in outcomes
        ):
            raise self._garbage("outcomes")
        return outcomes

    def accounts(self, customer_nos: Sequence[str], today: date | None = None) -> list[Account]:
        """The event's snapshot, page by page, of the customers asked for."""
        wanted = set(customer_nos)
        result: list[Account] = []
        after = ""
        while True:
            params = {"after": after, "limit": str(PAGE)}
            if today is not None:
                params["day"] = today.isoformat()
            body = self._call("GET", f"/v1/events/{self.event}/snapshot", params=params)
            try:
                if "points_stock" in body:
                    self._stock[date.fromisoformat(body["day"])] = int(body["points_stock"])
                page = [_account(a) for a in body["accounts"]]
                after = body["next"]
            except (KeyError, TypeError, ValueError):
                raise self._garbage("snapshot") from None
            result += [a for a in page if a.customer_no in wanted]
            if not after:
                return result

    def points_stock(self, today: date | None = None) -> int:
        """The bank's whole points stock on ``today``, from the snapshot's first page."""
        if today is not None and today in self._stock:
            return self._stock[today]
        params = {"limit": "1"}
        if today is not None:
            params["day"] = today.isoformat()
        body = self._call("GET", f"/v1/events/{self.event}/snapshot", params=params)
        try:
            return int(body["points_stock"])
        except (KeyError, TypeError, ValueError):
            raise self._garbage("snapshot") from None

    # -- the wire --------------------------------------------------------------------------

    def _garbage(self, what: str) -> LedgerAnswerError:
        return LedgerAnswerError(
            _(
                "The ledger at {url} answered something that is not the ledger's API "
                "({what}); nothing was marked. Check the address."
            ).format(url=self.url, what=what)
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call, tried again on network errors, timeouts and 5xx; the JSON body."""
        last = ""
        dropped = 0  # tries the server closed without a word after the TLS handshake
        silent = False  # the last try waited its whole timeout for an answer
        started = time.monotonic()
        tried = 0
        for attempt in range(self.tries):
            if attempt:
                pause = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if time.monotonic() - started + pause >= self.bound:
                    break  # the call's bound is spent: say so rather than try again
                time.sleep(pause)
            tried += 1
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as error:
                tls = ssl_cause(error)
                if tls is not None:
                    raise LedgerTLSError(
                        _(
                            "The TLS connection to the ledger at {url} failed: {reason}. "
                            "Check the ledger's certificate (--ca-file for a private CA) and "
                            "this laptop's client certificate."
                        ).format(url=self.url, reason=tls_reason(tls))
                    ) from None
                last = str(error) or type(error).__name__
                dropped += isinstance(error, httpx.RemoteProtocolError)
                silent = isinstance(error, (httpx.ReadTimeout, httpx.WriteTimeout))
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code} {_sentence(response)}".strip()
                continue
            return self._body(response)
        if silent:
            raise LedgerError(
                _(
                    "The ledger at {url} did not answer within {seconds} seconds; nothing "
                    "unanswered was marked, so run it again when the ledger answers."
                ).format(url=self.url, seconds=f"{self.bound:g}")
            )
        if dropped == tried and self.url.lower().startswith("https://"):
            # A server that refuses a client certificate under TLS 1.3 closes the connection
            # after the handshake, often without an alert: this is all a client ever sees.
            raise LedgerTLSError(
                _(
                    "The ledger at {url} closed every connection right after the TLS handshake "
                    "without answering: it most likely refuses this laptop's client "
                    "certificate (none given, or one from a CA it does not trust; see "
                    "--client-cert and --client-key). Nothing was marked."
                ).format(url=self.url)
            )
        raise LedgerError(
            _(
                "The ledger at {url} cannot be reached after {n} tries: {reason}. Nothing "
                "unanswered was marked; run it again when the network is back."
            ).format(url=self.url, n=tried, reason=last)
        )

    def _body(self, response: httpx.Response) -> dict[str, Any]:
        sentence = _sentence(response)
        if response.status_code == 401:
            raise LedgerAuthError(
                _(
                    "The ledger refused the token ({reason}); ask the bank for this event's "
                    "token and set KIOSK_LEDGER_TOKEN."
                ).format(reason=sentence or response.status_code)
            )
        if response.status_code == 403:
            raise LedgerAuthError(
                _("The ledger refused this event's request: {reason}").format(
                    reason=sentence or response.status_code
                )
            )
        if response.status_code != 200:
            if sentence:
                raise LedgerError(
                    _("The ledger refused the request: {reason}").format(reason=sentence)
                )
            raise self._garbage(f"HTTP {response.status_code}")
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if kind != "application/json":
            raise self._garbage(kind or "no content type")
        try:
            body = response.json()
        except ValueError:
            raise self._garbage("not JSON") from None
        if not isinstance(body, dict):
            raise self._garbage("not a JSON object")
        return body


def _check_not_expired(path: str) -> None:
    """Say an expired (or not yet valid) client certificate here, by its date: the service
    can only close the connection on it."""
    from cryptography import x509

    try:
        with open(path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError) as error:
        raise LedgerTLSError(
            _("The client certificate {path} cannot be read: {reason}").format(
                path=path, reason=error
            )
        ) from None
    now = datetime.now(UTC)
    if cert.not_valid_after_utc < now:
        raise LedgerTLSError(
            _(
                "This laptop's client certificate {path} expired on {day}; ask the bank for "
                "a new one."
            ).format(path=path, day=cert.not_valid_after_utc.date().isoformat())
        )
    if cert.not_valid_before_utc > now:
        raise LedgerTLSError(
            _("This laptop's client certificate {path} is only valid from {day}.").format(
                path=path, day=cert.not_valid_before_utc.date().isoformat()
            )
        )


def _sentence(response: httpx.Response) -> str:
    """The service's error sentence, when the answer is the API's JSON error."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body["error"]) if isinstance(body, dict) and "error" in body else ""


def _account(a: dict[str, Any]) -> Account:
    return Account(
        str(a["customer_no"]),
        str(a["name"]),
        str(a["branch"]),
        str(a["tier"]),
        int(a["balance"]),
        str(a["mobile_banking"]),
        dict(a["kyc"]),
        datetime.fromisoformat(a["updated_at"]),
        tuple(
            Lot(
                str(x["ref"]),
                int(x["points"]),
                date.fromisoformat(x["expires_on"]) if x["expires_on"] else None,
            )
            for x in a["lots"]
        ),
        None if a["aum"] is None else int(a["aum"]),
    )
