"""Personal data of an event: seal what an older database holds in clear; purge it after.

``encrypt_event`` gives an event its privacy key (same passphrase as the signing key) and
seals the clear values a database from before the privacy migration still holds, with the
governance changes still waiting for the ledger. ``purge`` removes the personal data once the
event is closed and the ledger has everything, keeping the figures: counts, points, branches,
slots, slips (whose codes carry masked names only) and the customer number the bank reconciles
with. Both leave old bytes behind in free database pages; ``compact`` rewrites the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select, text, update

from kiosk import audit, privacy, slipcode
from kiosk.audit import canonical_json
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.i18n import _
from kiosk.masking import mask_name
from kiosk.models import (
    Customer,
    GovernanceChange,
    OutboxEntry,
    OutboxStatus,
    PrivacyKey,
    SearchKey,
    SigningKey,
)
from kiosk.permissions import Action, approved_or_setup, require
from kiosk.privacy import SEALED_FIELDS, PrivacyError
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class EncryptReport:
    key_created: bool
    customers: int  # customers whose clear values were sealed
    outbox: int  # pending governance entries sealed
    changes: Changes = field(default=NOTHING, compare=False)


def encrypt_event(
    uow: UnitOfWork,
    passphrase: str,
    *,
    staff: StaffSession | None = None,
    clock: Clock | None = None,
    station: str = "cli",
) -> EncryptReport:
    """Seal every clear phone, ID number and address; safe to run again. A supervisor runs
    it (``staff=None`` only on a database that has no staff yet)."""
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        approved_or_setup(s, staff, Action.ENCRYPT_EVENT, None)
        event = current_event(s)
        row = s.scalar(
            select(PrivacyKey)
            .where(PrivacyKey.event_id == event.id)
            .order_by(PrivacyKey.id.desc())
            .limit(1)
        )
        created = row is None
        if row is None:
            # One passphrase per event: it must be the one that unlocks the signing key.
            signing = s.scalar(
                select(SigningKey.locked_private_key)
                .where(SigningKey.event_id == event.id, SigningKey.retired_at.is_(None))
                .order_by(SigningKey.id.desc())
                .limit(1)
            )
            if signing is not None:
                slipcode.unlock_private_key(signing.encode("ascii"), passphrase)
            row = privacy.new_key_row(event.id, passphrase, now)
            s.add(row)
            s.flush()
        else:
            privacy.unlock_private_key(row.locked_private_key, passphrase)
        sealer = privacy.Sealer(bytes.fromhex(row.public_key))
        customers = 0
        for customer in s.scalars(
            select(Customer).where(
                or_(
                    Customer.legacy_phone.is_not(None),
                    Customer.legacy_id_number.is_not(None),
                    Customer.legacy_address.is_not(None),
                )
            )
        ):
            privacy.store(
                customer, sealer, **{f: getattr(customer, f"legacy_{f}") for f in SEALED_FIELDS}
            )
            customers += 1
        entries = 0
        for entry in s.scalars(
            select(OutboxEntry).where(
                OutboxEntry.kind == "governance",
                OutboxEntry.status == OutboxStatus.PENDING,
                OutboxEntry.sealed.is_(False),
            )
        ):
            payload = json.loads(entry.payload)
            payload["sealed_changes"] = privacy.seal_json(
                sealer, "changes", payload.pop("changes", {})
            )
            entry.payload = canonical_json(payload)
            entry.sealed = True
            entries += 1
        audit.append(
            s,
            at=now,
            action="personal_data_encrypted",
            staff_id=staff.staff_id if staff else None,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"key_created": created, "customers": customers, "outbox": entries},
        )
        uow.commit()
        return EncryptReport(created, customers, entries, Changes(setup=True))


@dataclass(frozen=True)
class PurgeReport:
    customers: int
    governance_changes: int
    search_keys: int
    changes: Changes = field(default=NOTHING, compare=False)


def purge(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "cli",
) -> PurgeReport:
    """Remove the event's personal data, keeping the figures; refused before the event is
    closed and while the ledger has not got everything."""
    require(staff, Action.PURGE)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        if event.closed_at is None:
            raise PrivacyError(
                _(
                    "The event is not closed yet: close it first (kiosk event close); "
                    "nothing was purged."
                )
            )
        waiting = s.scalar(
            select(func.count(OutboxEntry.id)).where(OutboxEntry.status == OutboxStatus.PENDING)
        )
        if waiting:
            raise PrivacyError(
                _(
                    "{n} entries have not reached the ledger yet: push them first "
                    "(kiosk sync push); nothing was purged."
                ).format(n=waiting)
            )
        customers = 0
        for customer in s.scalars(select(Customer)):
            customer.name = mask_name(customer.name)
            customer.name_initials = ""
            for field in SEALED_FIELDS:
                for column in privacy.columns(None, field, None):
                    setattr(customer, column, None)
            for field in (
                "gender",
                "nationality",
                "occupation_code",
                "tax_residency",
                "id_valid_from",
                "id_valid_to",
                "last_activity_on",
            ):
                setattr(customer, field, None)
            customer.id_long_term = False
            customers += 1
        keys = s.execute(delete(SearchKey)).rowcount
        changes = s.execute(
            update(GovernanceChange).values(old_value=None, new_value=None)
        ).rowcount
        for entry in s.scalars(select(OutboxEntry).where(OutboxEntry.kind == "governance")):
            payload = json.loads(entry.payload)
            payload.pop("changes", None)
            payload.pop("sealed_changes", None)
            payload["purged"] = True
            entry.payload = canonical_json(payload)
            entry.sealed = False
        s.execute(delete(PrivacyKey))  # nothing sealed is left to open
        audit.append(
            s,
            at=now,
            action="personal_data_purged",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"customers": customers, "governance_changes": changes, "search_keys": keys},
        )
        uow.commit()
        return PurgeReport(customers, changes, keys, Changes(setup=True))


def compact(database: Database) -> None:
    """Rewrite the database so removed or replaced values leave no bytes behind.

    SQLite keeps deleted content in free pages and old page versions in the WAL until a
    checkpoint: checkpoint, VACUUM, checkpoint again. PostgreSQL keeps dead row versions
    until a vacuum: VACUUM FULL the tables that held personal data."""
    if database.is_sqlite:
        # The raw connection: the engine starts every transaction with BEGIN IMMEDIATE, and
        # VACUUM cannot run inside one.
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()
        return
    with database.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(
            text("VACUUM FULL customer, search_key, governance_change, outbox_entry, privacy_key")
        )
