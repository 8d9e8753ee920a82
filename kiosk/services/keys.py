"""The event's slip-signing keys: create, unlock, list public halves; verify a code.

The private key is stored locked with the event passphrase; only the issuing desk unlocks it,
with the passphrase typed at the start of the day. Public keys (including retired ones, so
slips signed before a rotation still verify) go into merchant packs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from kiosk import audit, slipcode
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Merchant, Offer, SigningKey, Slip, SlipStatus
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork


def new_key_row(event_id: int, passphrase: str, now: datetime) -> SigningKey:
    """A fresh key pair as a row: public half in hex, private half locked."""
    private = slipcode.new_private_key()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey(
        event_id=event_id,
        key_id=slipcode.key_id(private.public_key()).hex(),
        public_key=raw.hex(),
        locked_private_key=slipcode.lock_private_key(private, passphrase).decode("ascii"),
        created_at=now,
    )


def create_event_key(
    uow: UnitOfWork,
    passphrase: str,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "",
) -> str:
    """A new signing key for the current event (retiring the previous one); its key id."""
    require(staff, Action.CREATE_EVENT_KEY)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        row = new_key_row(event.id, passphrase, now)
        for old in s.scalars(
            select(SigningKey).where(
                SigningKey.event_id == event.id, SigningKey.retired_at.is_(None)
            )
        ):
            old.retired_at = now
        s.add(row)
        audit.append(
            s,
            at=now,
            action="signing_key_created",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"key_id": row.key_id},
        )
        uow.commit()
        return row.key_id


def public_keys(uow: UnitOfWork) -> dict[bytes, Ed25519PublicKey]:
    with uow:
        event = current_event(uow.session)
        return {
            bytes.fromhex(k.key_id): Ed25519PublicKey.from_public_bytes(bytes.fromhex(k.public_key))
            for k in uow.session.scalars(select(SigningKey).where(SigningKey.event_id == event.id))
        }


def unlock(uow: UnitOfWork, passphrase: str) -> Ed25519PrivateKey:
    """The current signing key, unlocked; raises with a plain sentence otherwise."""
    with uow:
        event = current_event(uow.session)
        key = uow.session.scalar(
            select(SigningKey)
            .where(SigningKey.event_id == event.id, SigningKey.retired_at.is_(None))
            .order_by(SigningKey.id.desc())
            .limit(1)
        )
        if key is None:
            raise KioskError(_("This event has no signing key yet; create one first."))
        return slipcode.unlock_private_key(key.locked_private_key.encode("ascii"), passphrase)


@dataclass(frozen=True)
class CodeCheck:
    verdict: slipcode.Verdict
    payload: slipcode.SlipPayload | None
    merchant_name: str
    offer_name: str


def verify_code(
    uow: UnitOfWork,
    text: str,
    *,
    merchant_code: str | None = None,
    today: date | None = None,
    clock: Clock | None = None,
) -> CodeCheck:
    """The verdict for any code, as a booth of ``merchant_code`` would give it (any merchant
    when None), with the names the code's numbers stand for."""
    keys = public_keys(uow)
    with uow:
        s = uow.session
        event = current_event(s)
        today = today or (clock or Clock()).now().astimezone(ZoneInfo(event.timezone)).date()
        merchant_id = None
        if merchant_code is not None:
            merchant = s.scalar(
                select(Merchant).where(
                    Merchant.event_id == event.id, Merchant.code == merchant_code.upper()
                )
            )
            if merchant is None:
                raise KioskError(_("No merchant has the code {code}.").format(code=merchant_code))
            merchant_id = merchant.id
        revoked = frozenset(
            s.scalars(
                select(Slip.serial).where(
                    Slip.event_id == event.id, Slip.status == SlipStatus.VOIDED
                )
            )
        )
        check = slipcode.verify(
            text,
            public_keys=keys,
            event=slipcode.event_tag(event.code),
            merchant=merchant_id,
            today=today,
            revoked=revoked,
        )
        merchant_name = offer_name = ""
        if check.payload is not None and check.verdict != slipcode.Verdict.OTHER_EVENT:
            found = s.get(Merchant, check.payload.merchant)
            offer = s.get(Offer, check.payload.offer)
            merchant_name = found.name if found else ""
            offer_name = offer.name if offer else ""
        return CodeCheck(check.verdict, check.payload, merchant_name, offer_name)
