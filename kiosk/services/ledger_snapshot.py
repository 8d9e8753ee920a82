"""The ledger's snapshot written into the event database: points lot by lot, AUM, tiers, mobile
banking, KYC, and the bank's whole points stock.

``sync.push.pull`` fetches the accounts from the central ledger; this service is the write, so
the pull obeys the rules every other writer of customers does: a role check before anything
is written (a supervisor's: it replaces every customer's balance at once), names and phones
that change get their search keys replaced (``kiosk.search.index_customer``, as the desk and
reception do) so reception finds a customer by the ledger's name and phone, and one audit
record. Phones, ID numbers and addresses are sealed as they arrive (``kiosk.privacy``).

The ledger's accounts are read through ``LedgerAccount`` (the fields this write needs), so the
domain never imports ``sync``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk import audit, privacy
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.governance import FIELDS
from kiosk.i18n import _
from kiosk.models import Customer, Invitation, JournalEntry, OutboxEntry, OutboxStatus
from kiosk.permissions import Action, require
from kiosk.points import LotInput, set_lots_many, simple_balance
from kiosk.privacy import SEALED_FIELDS
from kiosk.search import index_customer
from kiosk.search_keys import customer_keys
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork

# The KYC fields the ledger holds for a customer, as the snapshot carries them: the ones the
# service desk's form governs.
KYC_FIELDS = FIELDS


class LedgerLot(Protocol):
    """One lot of a ledger account (``sync.ledger.Lot`` is one): points left, and the last
    day they can be spent (None: no expiry)."""

    @property
    def ref(self) -> str: ...
    @property
    def points(self) -> int: ...
    @property
    def expires_on(self) -> date | None: ...


class LedgerAccount(Protocol):
    """One account of the ledger's snapshot (``sync.ledger.Account`` is one). ``lots`` empty:
    a ledger without lots, the balance is one lot without expiry. ``aum`` None: the ledger
    does not say (the event keeps what it had)."""

    @property
    def customer_no(self) -> str: ...
    @property
    def balance(self) -> int: ...
    @property
    def tier(self) -> str: ...
    @property
    def mobile_banking(self) -> str: ...
    @property
    def kyc(self) -> Mapping[str, Any]: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def lots(self) -> Sequence[LedgerLot]: ...
    @property
    def aum(self) -> int | None: ...


class PullRefused(KioskError):
    """The snapshot must not be written: entries arrived that it does not include."""


@dataclass(frozen=True)
class SnapshotApplied:
    updated: int  # customers refreshed
    reindexed: int  # of them, whose name or phone changed (search keys replaced)
    as_of: datetime  # when it was written; the journal entries settled at this time


def apply_ledger_snapshot(
    uow: UnitOfWork,
    staff: StaffSession | None,
    accounts: Iterable[LedgerAccount],
    *,
    clock: Clock | None = None,
    station: str = "sync",
    points_stock: int | None = None,
) -> SnapshotApplied:
    """Refresh every customer the ledger answered for (their lots through
    ``kiosk.points.set_lots``: the balance is the lots' sum) and settle the journal, in one
    transaction; ``points_stock``, the bank's whole unexpired stock when the ledger gives it,
    goes to the event for the figures. Refused while any outbox entry is pending: the
    snapshot would not include it and the event would count it twice or lose it (the caller
    checks before asking the ledger; this check is the one that holds, inside the writing
    transaction)."""
    require(staff, Action.PULL_LEDGER)
    assert staff is not None
    by_number = {account.customer_no: account for account in accounts}
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        if s.scalar(
            select(func.count(OutboxEntry.id)).where(OutboxEntry.status == OutboxStatus.PENDING)
        ):
            raise PullRefused(_("New entries arrived during the pull; push them and pull again."))
        updated = 0
        moved: list[Customer] = []  # name or phone changed: their search keys follow
        sealer = privacy.sealer(s)  # the ledger's phones and IDs are sealed as they arrive
        lots: dict[int, list[LotInput]] = {}
        for customer in s.scalars(select(Customer).where(Customer.customer_no.in_(by_number))):
            account = by_number[customer.customer_no]
            before = (customer.name, customer.phone_masked)
            lots[customer.id] = (
                [LotInput(x.ref, x.points, x.expires_on) for x in account.lots]
                if account.lots
                else simple_balance(account.balance)
            )
            # The same sum set_lots_many writes, so the loaded row agrees with it.
            customer.points_balance = sum(lot.points for lot in lots[customer.id])
            if account.aum is not None:
                customer.aum = account.aum
            customer.balance_as_of = account.updated_at
            customer.tier = account.tier
            customer.mobile_banking = account.mobile_banking
            for field in KYC_FIELDS:
                if field not in account.kyc:
                    continue
                value = _field_value(field, account.kyc[field])
                if field in SEALED_FIELDS:
                    privacy.store(customer, sealer, **{field: value})
                else:
                    setattr(customer, field, value)
            if (customer.name, customer.phone_masked) != before:
                moved.append(customer)
            updated += 1
        _reindex(s, moved)
        # Every customer's lots in a few statements, not a query each (an event's thousands).
        set_lots_many(s, lots)
        if points_stock is not None:
            current_event(s).bank_points_stock = points_stock
        # Everything the ledger has applied is in the new balance now.
        s.execute(
            update(JournalEntry)
            .where(JournalEntry.settled_at.is_(None))
            .values(settled_at=now)
            .execution_options(synchronize_session=False)
        )
        audit.append(
            s,
            at=now,
            action="ledger_pulled",
            staff_id=staff.staff_id,
            station=station,
            details={
                "customers": updated,
                "reindexed": len(moved),
                "points_stock": points_stock,
            },
        )
        uow.commit()
    return SnapshotApplied(updated, len(moved), now)


def _reindex(session: Session, customers: list[Customer]) -> None:
    """Replace the search keys of customers whose name or phone changed, with their
    invitation codes as before (one query for all their codes)."""
    if not customers:
        return
    codes: dict[int, list[str]] = {}
    ids = [customer.id for customer in customers]
    for start in range(0, len(ids), 500):
        for customer_id, code in session.execute(
            select(Invitation.customer_id, Invitation.code).where(
                Invitation.customer_id.in_(ids[start : start + 500])
            )
        ):
            codes.setdefault(customer_id, []).append(code)
    for customer in customers:
        index_customer(
            session,
            customer.id,
            customer_keys(
                customer.name,
                customer.phone_masked,
                customer.customer_no,
                codes.get(customer.id, ()),
            ),
        )


def _field_value(field: str, value: object) -> object:
    if field in ("id_valid_from", "id_valid_to") and isinstance(value, str):
        return date.fromisoformat(value)
    return value
