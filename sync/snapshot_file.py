"""The pull by file: the ledger's snapshot of an event's customers, signed by the ledger's key,
carried on a stick to a kiosk that never reaches the ledger (issue #22; docs/sync.md).

A **snapshot file** has the batch files' shape (``sync.batch``: canonical JSON lines):

1. the manifest: format, version, event code, the day the balances and the bank's points
   stock are counted on, created_at (the ledger's clock), the ledger key (raw public key,
   fingerprint), the number of accounts, the sum of their balances, the bank's whole points
   stock, and the sha256 of the account lines;
2. one line per account of the event's snapshot, in customer order, exactly as the HTTPS
   service sends it (``sync.api``): lots with expiry, tier, AUM, mobile banking, KYC fields;
3. ``{"signature": …}``: Ed25519 by the ledger's own key (the one that signs answer files)
   over the manifest line.

The kiosk accepts it only from the ledger key it already trusts for answer files (audit
record ``ledger_key_trusted``; ``--trust`` the first time) and applies it through the direct
pull's own code (``sync.push._pull``): the same role, refusals, write and audit, so a file
pull and a direct pull of the same ledger leave the same customers.

A snapshot older than the last one imported is refused, and so is the same file again once
entries were pushed after it was imported: either would put back balances from before those
entries and let points be spent twice.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.i18n import _
from kiosk.models import OutboxEntry
from kiosk.permissions import Action, require
from kiosk.services import ledger_batch
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from sync.batch import (
    MAX_ENTRIES,
    VERSION,
    BatchError,
    _int,
    _line,
    _parse_signed,
    _raw,
    _read,
    _text,
    _unwritable,
    _write,
    fingerprint,
    trust_ledger_signer,
)
from sync.ledger import Account, Ledger, Lot, Outcome, ledger_today
from sync.push import PullReport, _pull, sync_lock

SNAPSHOT_FORMAT = "kiosk-ledger-snapshot"
PAGE = 1000
MAX_LOTS = 500  # per account: a line stays well under MAX_LINE


# -- writing (the ledger's side) -------------------------------------------------------------


def write_snapshot(
    event_code: str,
    day: date,
    accounts: Sequence[Account],
    points_stock: int,
    key: Ed25519PrivateKey,
    *,
    created_at: str,
) -> bytes:
    """The signed snapshot file's bytes; each account exactly as the HTTPS service sends it
    (imported here: only the ledger's side writes, a kiosk needs no web framework to read)."""
    from sync.api import _account_json

    body = [_line(_account_json(a)) for a in accounts]
    public_raw = _raw(key.public_key())
    manifest = _line(
        {
            "format": SNAPSHOT_FORMAT,
            "version": VERSION,
            "event": event_code,
            "day": day.isoformat(),
            "created_at": created_at,
            "signer": {"public_key": public_raw.hex(), "fingerprint": fingerprint(public_raw)},
            "accounts": len(accounts),
            "points": sum(a.balance for a in accounts),
            "points_stock": points_stock,
            "accounts_sha256": hashlib.sha256(b"".join(body)).hexdigest(),
        }
    )
    return manifest + b"".join(body) + _line({"signature": key.sign(manifest[:-1]).hex()})


@dataclass(frozen=True)
class SnapshotExport:
    event_code: str
    accounts: int
    day: date
    ledger_fingerprint: str


def export_snapshot(
    ledger: Ledger,
    event_code: str,
    path: Path,
    *,
    day: date | None = None,
    clock: Clock | None = None,
) -> SnapshotExport:
    """Write the event's snapshot (its accounts on ``day``, the ledger's day by default) as a
    signed file, for its owner only: it holds names, phones and ID numbers in clear."""
    if path.exists():
        raise BatchError(_("{file} exists already; name a new file.").format(file=path.name))
    on = day or ledger_today()
    accounts: list[Account] = []
    after = ""
    while True:
        page = ledger.event_accounts(event_code, after=after, limit=PAGE, today=on)
        accounts += page
        if len(page) < PAGE:
            break
        after = page[-1].customer_no
    if not accounts:
        raise BatchError(
            _(
                "Event {event} has no accounts on this ledger's snapshot (kiosk ledger seed "
                "puts them there); no file was written."
            ).format(event=event_code)
        )
    if len(accounts) > MAX_ENTRIES:
        raise BatchError(
            _("Event {event} has more than {n} accounts; a snapshot file holds no more.").format(
                event=event_code, n=MAX_ENTRIES
            )
        )
    key = ledger.answer_key()
    now = (clock or Clock()).now()
    data = write_snapshot(
        event_code, on, accounts, ledger.points_stock(on), key, created_at=now.isoformat()
    )
    temporary = path.with_name(path.name + ".part")
    _write(temporary, data, path)
    try:
        os.replace(temporary, path)
    except OSError as error:
        raise _unwritable(path, error) from None
    return SnapshotExport(event_code, len(accounts), on, fingerprint(_raw(key.public_key())))


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    event_code: str
    day: date
    created_at: datetime
    points_stock: int
    accounts: list[Account]
    signer_fingerprint: str
    signer_public: str  # raw, hex
    manifest_sha256: str


def _none_or_text(limit: int) -> Any:
    return lambda v: v is None or _text(v, limit)


def _iso_day(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# What each KYC field the pull writes must be (the customer table's column).
_KYC: dict[str, Any] = {
    "name": lambda v: _text(v, 64) and v != "",
    "gender": _none_or_text(1),
    "nationality": _none_or_text(3),
    "occupation_code": _none_or_text(16),
    "address": _none_or_text(300),
    "phone": _none_or_text(32),
    "id_type": lambda v: _text(v, 16),
    "id_number": _none_or_text(32),
    "id_valid_from": lambda v: v is None or _iso_day(v),
    "id_valid_to": lambda v: v is None or _iso_day(v),
    "id_long_term": lambda v: isinstance(v, bool),
    "tax_residency": _none_or_text(16),
}
_ACCOUNT_FIELDS = {
    "customer_no",
    "name",
    "branch",
    "tier",
    "balance",
    "mobile_banking",
    "kyc",
    "updated_at",
    "lots",
    "aum",
}


def _time(value: Any) -> datetime | None:
    """An aware ISO 8601 time, or None."""
    if not _text(value, 40):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _account(item: dict[str, Any]) -> Account | str:
    """The account a line holds, or why it is not one."""
    if set(item) != _ACCOUNT_FIELDS:
        return _("its fields are not an account's")
    for field, limit in (("customer_no", 32), ("name", 64), ("branch", 16), ("tier", 16)):
        if not _text(item[field], limit) or (field == "customer_no" and not item[field]):
            return _("its {field} is missing or malformed").format(field=field)
    if not _text(item["mobile_banking"], 8):
        return _("its {field} is missing or malformed").format(field="mobile_banking")
    if not _int(item["balance"]):
        return _("its {field} is missing or malformed").format(field="balance")
    if item["aum"] is not None and not _int(item["aum"]):
        return _("its {field} is missing or malformed").format(field="aum")
    updated_at = _time(item["updated_at"])
    if updated_at is None:
        return _("its {field} is missing or malformed").format(field="updated_at")
    kyc = item["kyc"]
    if not isinstance(kyc, dict) or len(kyc) > 64:
        return _("its {field} is missing or malformed").format(field="kyc")
    for field, value in kyc.items():
        check = _KYC.get(field)
        plain = value is None or isinstance(value, bool) or _int(value) or _text(value, 300)
        if not _text(field, 32) or not plain or (check is not None and not check(value)):
            return _("its KYC field {field} is malformed").format(field=str(field)[:32])
    lots = item["lots"]
    if not isinstance(lots, list) or len(lots) > MAX_LOTS:
        return _("its {field} is missing or malformed").format(field="lots")
    parsed: list[Lot] = []
    for lot in lots:
        if (
            not isinstance(lot, dict)
            or set(lot) != {"ref", "points", "expires_on"}
            or not _text(lot["ref"], 32)
            or not _int(lot["points"])
            or not (lot["expires_on"] is None or _iso_day(lot["expires_on"]))
        ):
            return _("its {field} is missing or malformed").format(field="lots")
        expires = date.fromisoformat(lot["expires_on"]) if lot["expires_on"] else None
        parsed.append(Lot(lot["ref"], lot["points"], expires))
    if len({x.ref for x in parsed}) != len(parsed):
        return _("a lot is there twice")
    return Account(
        item["customer_no"],
        item["name"],
        item["branch"],
        item["tier"],
        item["balance"],
        item["mobile_banking"],
        kyc,
        updated_at,
        tuple(parsed),
        item["aum"],
    )


def read_snapshot(data: bytes, name: str) -> Snapshot:
    """A verified snapshot (signature, hash, counts, every account's shape); not yet its
    trust or its event."""
    what = _("snapshot file")
    signed = _parse_signed(data, name, SNAPSHOT_FORMAT, what, "accounts")
    manifest = signed.manifest

    def bad(reason: str) -> BatchError:
        return BatchError(
            _("{file} is not a valid {what}: {reason}; nothing was changed.").format(
                file=name, what=what, reason=reason
            )
        )

    event_code = manifest.get("event")
    if not _text(event_code, 16) or not event_code:
        raise bad(_("its event is malformed"))
    if not _iso_day(manifest.get("day")):
        raise bad(_("its day is malformed"))
    created_at = _time(manifest.get("created_at"))
    if created_at is None:
        raise bad(_("its creation time is malformed"))
    stock = manifest.get("points_stock")
    if not _int(stock) or stock < 0:
        raise bad(_("its points stock is malformed"))
    accounts: list[Account] = []
    seen: set[str] = set()
    for number, item in enumerate(signed.items, start=2):
        account = _account(item)
        if isinstance(account, str):
            raise bad(_("line {n}: {problem}").format(n=number, problem=account))
        if account.customer_no in seen:
            raise bad(_("line {n}: its customer is there twice").format(n=number))
        seen.add(account.customer_no)
        accounts.append(account)
    if manifest.get("points") != sum(a.balance for a in accounts):
        raise bad(_("its points do not match its lines"))
    return Snapshot(
        event_code,
        date.fromisoformat(manifest["day"]),
        created_at,
        stock,
        accounts,
        fingerprint(signed.public_raw),
        signed.public_raw.hex(),
        hashlib.sha256(signed.manifest_line).hexdigest(),
    )


# -- importing (the kiosk's side) ------------------------------------------------------------


class FileLedger:
    """A snapshot file as the pull's ledger (``sync.transport.LedgerClient``): it answers
    ``accounts`` and ``points_stock`` from the file and sends nothing."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def accounts(self, customer_nos: Sequence[str], today: date | None = None) -> list[Account]:
        """The file's accounts asked for, with the balance of their lots not expired on
        ``today`` (as ``Ledger.accounts`` counts it; the file's day by default)."""
        day = today or self.snapshot.day
        wanted = set(customer_nos)
        return [
            replace(
                a,
                balance=sum(
                    x.points for x in a.lots if x.expires_on is None or x.expires_on >= day
                ),
            )
            if a.lots
            else a
            for a in self.snapshot.accounts
            if a.customer_no in wanted
        ]

    def points_stock(self, today: date | None = None) -> int:
        """The bank's whole points stock on the file's day (the file holds no other)."""
        return self.snapshot.points_stock

    def apply(
        self, entries: Sequence[tuple[str, str, dict[str, Any]]], today: date | None = None
    ) -> list[Outcome]:
        raise BatchError(_("A snapshot file takes no entries; push them by batch file."))

    def dispose(self) -> None:
        pass


@dataclass(frozen=True)
class SnapshotImport:
    pulled: PullReport
    day: date
    created_at: datetime
    newly_trusted: bool


def _check_not_stale(database: Database, name: str, snapshot: Snapshot) -> None:
    """Refuse a snapshot older than the last one imported, and the same one again once
    entries were pushed after it was imported: either would put back older balances."""
    last = ledger_batch.last_snapshot(database.unit_of_work())
    if last is None:
        return
    if snapshot.created_at < last.created_at:
        raise BatchError(
            _(
                "{file} was written by the ledger at {theirs}, before the snapshot imported "
                "last ({ours}): its balances are older. Export a new snapshot; nothing was "
                "changed."
            ).format(
                file=name,
                theirs=snapshot.created_at.isoformat(timespec="seconds"),
                ours=last.created_at.isoformat(timespec="seconds"),
            )
        )
    if snapshot.created_at == last.created_at:
        with database.unit_of_work() as uow:
            since = int(
                uow.session.scalar(
                    select(func.count(OutboxEntry.id)).where(OutboxEntry.pushed_at > last.at)
                )
                or 0
            )
        if since:
            raise BatchError(
                _(
                    "{file} was imported before, and {n} entries were pushed since: its "
                    "balances do not include them. Export a new snapshot; nothing was changed."
                ).format(file=name, n=since)
            )


def import_snapshot(
    database: Database,
    path: Path,
    staff: StaffSession | None,
    *,
    trust: str | None = None,
    clock: Clock | None = None,
) -> SnapshotImport:
    """Verify a snapshot file against the trusted ledger key and this event, then pull from
    it as ``kiosk sync pull`` pulls from the ledger. Raises ``SyncBusy`` while a push runs."""
    require(staff, Action.PULL_LEDGER)  # before the file is read, as the pull asks nothing
    name = path.name
    snapshot = read_snapshot(_read(path, _("snapshot file")), name)
    with sync_lock(database):
        with database.unit_of_work() as uow:
            event_code = current_event(uow.session).code
        if snapshot.event_code != event_code:
            raise BatchError(
                _(
                    "{file} is the snapshot of event {theirs}, not of this event {ours}; "
                    "nothing was changed."
                ).format(file=name, theirs=snapshot.event_code, ours=event_code)
            )
        newly = trust_ledger_signer(database, name, snapshot.signer_fingerprint, trust)
        _check_not_stale(database, name, snapshot)
        pulled = _pull(database, FileLedger(snapshot), staff, clock, "sync")
        ledger_batch.record_snapshot(
            database.unit_of_work(),
            manifest_sha256=snapshot.manifest_sha256,
            created_at=snapshot.created_at,
            day=snapshot.day,
            accounts=len(snapshot.accounts),
            trusted=(snapshot.signer_fingerprint, snapshot.signer_public) if newly else None,
            staff=staff,
            clock=clock,
        )
    return SnapshotImport(pulled, snapshot.day, snapshot.created_at, newly)
