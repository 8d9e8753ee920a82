"""What the event database remembers of batch files (``sync.batch``): the batches it exported
and the ledger keys it trusts. Both are audit records, so no table is needed and both are
under the audit chain's hash (editing either breaks ``kiosk audit verify``).

- ``ledger_batch_exported`` (entity ``ledger_batch``, entity id = the batch id): the sha256 of
  the batch's manifest line and the outbox entry ids it carried, as ranges ``[[first, last]]``
  (pending entries are nearly always one run of ids, so a batch of 50,000 entries is a few
  bytes). An answer file is checked against it: it must answer exactly the entries of a batch
  this kiosk exported, and nothing else.
- ``ledger_key_trusted`` (entity ``ledger_key``, entity id = its fingerprint): the raw public
  key of a ledger whose answer files this kiosk accepts; written only when the operator named
  the fingerprint (``kiosk sync import-answers --trust`` or ``import-snapshot --trust``).
- ``ledger_snapshot_imported`` (entity ``ledger_snapshot``, entity id = the sha256 of the
  snapshot file's manifest line): when the ledger wrote it, the day it counts on and how many
  accounts it held. The next snapshot file is checked against the last one: an older one
  would put back older balances. Written with the key's trust, if newly trusted, in one
  transaction, after the pull's own write and its ``ledger_pulled`` record.

Like ``ledger_push.record_push`` these ask for no role: exporting and importing run as the
push does (a coordinator's command, no one signed in), and they change no business data. The
export needs the event passphrase anyway, to sign with the event's key. Details hold ids,
hashes and public keys only, never personal data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from kiosk import audit
from kiosk.clock import Clock
from kiosk.models import AuditRecord
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork

EXPORTED = "ledger_batch_exported"
TRUSTED = "ledger_key_trusted"
SNAPSHOT = "ledger_snapshot_imported"


@dataclass(frozen=True)
class ExportedBatch:
    batch_id: str
    manifest_sha256: str
    entry_ids: frozenset[int]


def id_ranges(ids: Sequence[int]) -> list[list[int]]:
    """Sorted ids as runs ``[[first, last], ...]`` of consecutive ids."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def record_export(
    uow: UnitOfWork,
    *,
    batch_id: str,
    manifest_sha256: str,
    entry_ids: Sequence[int],
    clock: Clock | None = None,
    station: str = "sync",
) -> None:
    """Remember that batch ``batch_id`` carried ``entry_ids`` (one audit record)."""
    now = (clock or Clock()).now()
    with uow:
        event = current_event(uow.session)
        audit.append(
            uow.session,
            at=now,
            action="ledger_batch_exported",
            station=station,
            entity="ledger_batch",
            entity_id=batch_id,
            details={
                "event": event.code,
                "manifest_sha256": manifest_sha256,
                "entries": len(entry_ids),
                "ids": id_ranges(entry_ids),
            },
        )
        uow.commit()


def exported_batch(uow: UnitOfWork, batch_id: str) -> ExportedBatch | None:
    """The batch this kiosk exported under ``batch_id``, or None when it never did."""
    with uow:
        details = uow.session.scalar(
            select(AuditRecord.details)
            .where(
                AuditRecord.action == EXPORTED,
                AuditRecord.entity == "ledger_batch",
                AuditRecord.entity_id == batch_id,
            )
            .order_by(AuditRecord.id)
            .limit(1)
        )
    if details is None:
        return None
    data = json.loads(details)
    ids = frozenset(i for first, last in data["ids"] for i in range(first, last + 1))
    return ExportedBatch(batch_id, data["manifest_sha256"], ids)


def trusted_ledger_keys(uow: UnitOfWork) -> dict[str, str]:
    """The ledger keys whose answers this kiosk accepts: fingerprint -> raw public key (hex)."""
    with uow:
        rows = uow.session.execute(
            select(AuditRecord.entity_id, AuditRecord.details).where(
                AuditRecord.action == TRUSTED, AuditRecord.entity == "ledger_key"
            )
        ).all()
    return {fingerprint: json.loads(details)["public_key"] for fingerprint, details in rows}


def trust_ledger_key(
    uow: UnitOfWork,
    fingerprint: str,
    public_key: str,
    *,
    clock: Clock | None = None,
    station: str = "sync",
) -> None:
    """Trust a ledger key from now on (the operator named its fingerprint)."""
    now = (clock or Clock()).now()
    with uow:
        audit.append(
            uow.session,
            at=now,
            action="ledger_key_trusted",
            station=station,
            entity="ledger_key",
            entity_id=fingerprint,
            details={"public_key": public_key},
        )
        uow.commit()


@dataclass(frozen=True)
class ImportedSnapshot:
    manifest_sha256: str
    created_at: datetime  # the ledger's clock, when it wrote the file
    at: datetime  # this kiosk's clock, when it was imported


def record_snapshot(
    uow: UnitOfWork,
    *,
    manifest_sha256: str,
    created_at: datetime,
    day: date,
    accounts: int,
    trusted: tuple[str, str] | None = None,
    staff: StaffSession | None,
    clock: Clock | None = None,
    station: str = "sync",
) -> None:
    """Remember that a snapshot file was imported (and trust its ledger key, ``trusted`` =
    (fingerprint, public key), when the operator named it), in one transaction. The pull
    itself was written and audited by ``ledger_snapshot.apply_ledger_snapshot``; the same
    supervisor's rule (a pull rewrites every balance) holds for its record."""
    require(staff, Action.PULL_LEDGER)
    staff_id = staff.staff_id if staff is not None else None
    now = (clock or Clock()).now()
    with uow:
        if trusted is not None:
            audit.append(
                uow.session,
                at=now,
                action="ledger_key_trusted",
                station=station,
                entity="ledger_key",
                entity_id=trusted[0],
                details={"public_key": trusted[1]},
            )
        audit.append(
            uow.session,
            at=now,
            action="ledger_snapshot_imported",
            staff_id=staff_id,
            station=station,
            entity="ledger_snapshot",
            entity_id=manifest_sha256,
            details={
                "event": current_event(uow.session).code,
                "created_at": created_at.isoformat(),
                "day": day.isoformat(),
                "accounts": accounts,
            },
        )
        uow.commit()


def last_snapshot(uow: UnitOfWork) -> ImportedSnapshot | None:
    """The newest snapshot file imported (by the ledger's time), or None."""
    newest: ImportedSnapshot | None = None
    with uow:
        rows = uow.session.execute(
            select(AuditRecord.entity_id, AuditRecord.details, AuditRecord.at).where(
                AuditRecord.action == SNAPSHOT, AuditRecord.entity == "ledger_snapshot"
            )
        ).all()
    for sha, details, at in rows:
        created = datetime.fromisoformat(json.loads(details)["created_at"])
        if newest is None or (created, at) >= (newest.created_at, newest.at):
            newest = ImportedSnapshot(sha, created, at)
    return newest
