"""The contact history of invitations (issue #20): appended, never overwritten.

A daily report, an SMS platform's send report, an RM ticking "reminded" at a station: each
becomes ``InvitationContact`` rows written here. Each row carries a fingerprint of what it
says (invitation, purpose, day, channel, who, answer), so the same report imported twice, or
the same tick made twice, adds nothing the second time; two reports that say different things
on different days both stay.

Migration 0015 seeds the history with the same fingerprint (keep the two in step).

The follow-up after the event (issue #21) is kept the same way: each outcome an RM reports in
their filled follow-up workbook becomes a ``FollowupContact`` (``record_followups``),
fingerprinted, so the same workbook imported twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import bulk, changes
from kiosk.models import (
    ContactChannel,
    ContactPurpose,
    FollowupContact,
    FollowupOutcome,
    FollowupStage,
    InvitationContact,
)


@dataclass(frozen=True)
class Contact:
    """One contact as a source reports it."""

    invitation_id: int
    purpose: ContactPurpose
    channel: ContactChannel
    contacted_on: date
    staff_id: int | None = None  # who made the contact (None: not said)
    answer: str | None = None  # ``InvitationAnswer`` for an invitation contact
    at: datetime | None = None  # the time, when the source gives one


def fingerprint(contact: Contact) -> str:
    """SHA-256 of what the contact says; equal for the same row of the same report."""
    text = "|".join(
        (
            str(contact.invitation_id),
            str(contact.purpose),
            contact.contacted_on.isoformat(),
            str(contact.channel),
            "" if contact.staff_id is None else str(contact.staff_id),
            contact.answer or "",
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    session: Session,
    contacts: Iterable[Contact],
    *,
    source: str,
    now: datetime,
    recorded_by: int | None,
) -> int:
    """Append the contacts not yet in the history; returns how many were new.

    Looked up by fingerprint in batches, then written in bulk (a 400,000-row report stays a
    few statements per batch); duplicates within one call count once."""
    new: dict[str, Contact] = {}
    for contact in contacts:
        new.setdefault(fingerprint(contact), contact)
    if not new:
        return 0
    prints = list(new)
    for start in range(0, len(prints), 5000):
        batch = prints[start : start + 5000]
        for known in session.scalars(
            select(InvitationContact.fingerprint).where(InvitationContact.fingerprint.in_(batch))
        ):
            new.pop(known, None)
    rows = [
        {
            "invitation_id": c.invitation_id,
            "purpose": str(c.purpose),
            "channel": str(c.channel),
            "contacted_on": c.contacted_on,
            "at": c.at,
            "staff_id": c.staff_id,
            "answer": c.answer,
            "source": source[:100],
            "recorded_at": now,
            "recorded_by": recorded_by,
            "fingerprint": key,
        }
        for key, c in new.items()
    ]
    if rows:
        changes.wrote(session)  # COPY passes no ORM event: the stations must still hear of it
        bulk.insert_rows(session.connection(), InvitationContact.__table__, rows)
    return len(rows)


@dataclass(frozen=True)
class Followup:
    """One follow-up contact as the RM's workbook reports it."""

    event_id: int
    customer_id: int
    rm_id: int | None  # whose list the customer is on (None: the customers without an RM)
    stage: FollowupStage
    contacted_on: date
    outcome: FollowupOutcome
    channel: ContactChannel | None = None
    note: str = ""


def followup_fingerprint(followup: Followup) -> str:
    """SHA-256 of what the row says (customer, group, day, outcome, note, RM; the event, so
    two events in one database never meet): equal for the same row imported again."""
    text = "|".join(
        (
            "followup",
            str(followup.event_id),
            str(followup.customer_id),
            str(followup.stage),
            followup.contacted_on.isoformat(),
            str(followup.outcome),
            followup.note,
            "" if followup.rm_id is None else str(followup.rm_id),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def record_followups(
    session: Session,
    followups: Iterable[Followup],
    *,
    source: str,
    now: datetime,
    recorded_by: int | None,
) -> int:
    """Append the follow-up contacts not yet recorded; returns how many were new (as
    ``record``: looked up by fingerprint in batches, written in bulk)."""
    new: dict[str, Followup] = {}
    for followup in followups:
        new.setdefault(followup_fingerprint(followup), followup)
    if not new:
        return 0
    prints = list(new)
    for start in range(0, len(prints), 5000):
        batch = prints[start : start + 5000]
        for known in session.scalars(
            select(FollowupContact.fingerprint).where(FollowupContact.fingerprint.in_(batch))
        ):
            new.pop(known, None)
    rows = [
        {
            "event_id": f.event_id,
            "customer_id": f.customer_id,
            "rm_id": f.rm_id,
            "stage": str(f.stage),
            "contacted_on": f.contacted_on,
            "channel": None if f.channel is None else str(f.channel),
            "outcome": str(f.outcome),
            "note": f.note[:300],
            "source": source[:100],
            "recorded_at": now,
            "recorded_by": recorded_by,
            "fingerprint": key,
        }
        for key, f in new.items()
    ]
    if rows:
        changes.wrote(session)
        bulk.insert_rows(session.connection(), FollowupContact.__table__, rows)
    return len(rows)
