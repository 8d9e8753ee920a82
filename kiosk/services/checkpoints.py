"""Signing checkpoints of the audit chain, and verifying the chain, its checkpoints and the
money rows it must account for (issue #26; ``kiosk.checkpoint`` says why checkpoints exist).

Who may sign: on demand (``kiosk audit checkpoint``), a supervisor (``Action.SIGN_CHECKPOINT``)
with the event passphrase that unlocks the signing key. A backup and a push run unattended (a
timer, the app's background push) with no one signed in, and the close is approved by a
supervisor in its own service: there the passphrase itself is the authority, exactly as for
the slips it signs, and nothing but the chain's head is signed: no business data changes.
The checkpoint row, its outbox entry (so the ledger keeps a copy) and an audit record of the
signing are one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from kiosk import audit, checkpoint, outbox, slipcode
from kiosk.checkpoint import Checkpoint, CheckpointReport
from kiosk.clock import Clock
from kiosk.errors import KioskError, NoEventError
from kiosk.i18n import _
from kiosk.models import AuditCheckpoint, AuditRecord
from kiosk.permissions import Action, require
from kiosk.services import keys
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork

UNATTENDED = ("backup", "push", "close")  # reasons that may sign with no one signed in


def unlock(uow: UnitOfWork, passphrase: str) -> Ed25519PrivateKey:
    """The event's current signing key, unlocked with the passphrase (a sentence if wrong)."""
    return keys.unlock(uow, passphrase)


def sign_checkpoint(
    uow: UnitOfWork,
    private_key: Ed25519PrivateKey,
    *,
    reason: str,
    staff: StaffSession | None = None,
    clock: Clock | None = None,
    station: str = "",
) -> Checkpoint:
    """Sign the chain's head as it stands and keep the checkpoint (database and outbox)."""
    if reason not in checkpoint.REASONS:
        raise ValueError(reason)
    if staff is not None:
        require(staff, Action.SIGN_CHECKPOINT)
    elif reason not in UNATTENDED:
        raise KioskError(_("Sign in as a supervisor to sign a checkpoint of the audit chain."))
    now = (clock or Clock()).now()
    key_id = slipcode.key_id(private_key.public_key()).hex()
    if key_id not in {k.hex() for k in keys.public_keys(uow)}:
        raise KioskError(_("This signing key is not one of this event's keys."))
    with uow:
        s = uow.session
        event = current_event(s)
        count, head = checkpoint.head(s)
        signed = checkpoint.sign(
            Checkpoint(event.code, count, head, now, reason, key_id, source="database"),
            private_key,
        )
        s.add(
            AuditCheckpoint(
                event_id=event.id,
                at=now,
                record_count=count,
                head_hash=head,
                reason=reason,
                staff_id=staff.staff_id if staff else None,
                key_id=key_id,
                signature=signed.signature,
            )
        )
        outbox.enqueue(s, event_id=event.id, kind=checkpoint.KIND, at=now, payload=signed.to_json())
        audit.append(
            s,
            at=now,
            action="audit_checkpoint_signed",
            staff_id=staff.staff_id if staff else None,
            station=station,
            entity="audit_checkpoint",
            entity_id=count,
            details={"count": count, "head": head, "reason": reason, "key_id": key_id},
        )
        uow.commit()
    return signed


def stored(uow: UnitOfWork) -> list[Checkpoint]:
    """The checkpoints kept in the event database, oldest first."""
    with uow:
        return checkpoint.in_database(uow.session, current_event(uow.session).code)


@dataclass(frozen=True)
class Verification:
    """Everything ``kiosk audit verify`` says: the chain, the chain against the newest
    checkpoint found, and the money rows no record accounts for."""

    chain: audit.ChainReport
    checkpoints: CheckpointReport
    coverage: audit.CoverageReport

    @property
    def intact(self) -> bool:
        return self.chain.intact and not self.checkpoints.problems and self.coverage.complete


def verify(uow: UnitOfWork, found: checkpoint.Found | None = None) -> Verification:
    """Check the chain, compare it with the database's checkpoints and ``found`` (from a
    backup folder, the ledger or a file; its damaged lines are problems too), and check every
    money row is accounted for."""
    found = found or checkpoint.Found()
    try:
        public = {key.hex(): value for key, value in keys.public_keys(uow).items()}
    except NoEventError:  # a database before its event: a chain, no key, no checkpoint
        public = {}
    with uow:
        s = uow.session
        try:
            code = current_event(s).code
        except NoEventError:
            code = ""
        chain = audit.check(s)
        records = [
            (row_id, hashed)
            for row_id, hashed in s.execute(
                select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id)
            )
        ]
        known = checkpoint.in_database(s, code) + found.checkpoints
        compared = checkpoint.compare(records, known, public, code)
        compared = replace(compared, problems=[*found.damaged, *compared.problems])
        rows = audit.coverage(s)
    return Verification(chain, compared, rows)
