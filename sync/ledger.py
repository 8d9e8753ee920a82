"""The reference central points ledger: what the bank's system does with what a kiosk sends.

Any SQLAlchemy URL (PostgreSQL in production and the integration tests, SQLite for the demo).
Accounts hold the balance; ``ledger_entry`` is append-only with a unique idempotency key, so
an entry sent twice is answered from the first time and never applied again; a debit the
balance cannot cover is stored as rejected with its reason and never applied.

A batch is one transaction: the accounts it touches are locked (``FOR UPDATE``), every entry is
judged in order against the running balance, then entries, balances and slips are written in
bulk. That keeps a loopback PostgreSQL push well above 20,000 entries per second.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from kiosk.bulk import insert_rows
from kiosk.db import create_db_engine
from kiosk.errors import KioskError
from kiosk.i18n import _

ACCEPTED, REJECTED = "accepted", "rejected"
SCHEMA_VERSION = 1

metadata = MetaData()

account = Table(
    "ledger_account",
    metadata,
    Column("customer_no", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("branch", String(16), nullable=False, default=""),
    Column("tier", String(16), nullable=False, default="standard"),
    Column("balance", BigInteger, nullable=False),
    Column("mobile_banking", String(8), nullable=False, default="none"),
    Column("kyc", Text, nullable=False, default="{}"),  # canonical JSON of the KYC fields
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

entry = Table(
    "ledger_entry",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("customer_no", String(32)),
    Column("points", BigInteger, nullable=False, default=0),  # signed: debit < 0
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("payload", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

slip = Table(
    "ledger_slip",
    metadata,
    Column("event", String(16), primary_key=True),
    Column("serial", Integer, primary_key=True),
    Column("customer_no", String(32), nullable=False),
    Column("merchant", String(16), nullable=False),
    Column("offer", String(16), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # issued / voided / redeemed / released
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

governance = Table(
    "ledger_governance",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False),
    Column("customer_no", String(32), nullable=False),
    Column("field", String(32), nullable=False),
    Column("new_value", String(300)),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("idempotency_key", "field"),
)

meta = Table(
    "ledger_meta",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(64), nullable=False),
)


class LedgerError(KioskError):
    """The ledger cannot be reached or is not a ledger; one sentence says which."""


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str  # accepted / rejected
    reason: str = ""


@dataclass(frozen=True)
class Account:
    customer_no: str
    name: str
    branch: str
    tier: str
    balance: int
    mobile_banking: str
    kyc: dict[str, Any]
    updated_at: datetime


def _customer(payload: dict[str, Any]) -> str | None:
    return payload.get("customer_no")


class Ledger:
    """A connection to a central ledger database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> Ledger:
        engine = create_db_engine(url)
        try:
            if create:
                metadata.create_all(engine)
                with engine.begin() as connection:
                    if (
                        connection.scalar(select(meta.c.value).where(meta.c.name == "schema"))
                        is None
                    ):
                        connection.execute(
                            meta.insert().values(name="schema", value=str(SCHEMA_VERSION))
                        )
            elif not inspect(engine).has_table("ledger_entry"):
                engine.dispose()
                raise LedgerError(
                    _("{url} is not a points ledger; create it with kiosk ledger init.").format(
                        url=url
                    )
                )
        except OperationalError as error:
            engine.dispose()
            raise LedgerError(
                _("The points ledger cannot be reached: {reason}").format(
                    reason=str(error.orig).strip().splitlines()[0] if error.orig else error
                )
            ) from None
        return cls(engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- accounts ----------------------------------------------------------------------------

    def upsert_accounts(self, accounts: Iterable[Account]) -> int:
        """Create or replace accounts (``kiosk ledger seed``)."""
        rows = [
            {
                "customer_no": a.customer_no,
                "name": a.name,
                "branch": a.branch,
                "tier": a.tier,
                "balance": a.balance,
                "mobile_banking": a.mobile_banking,
                "kyc": json.dumps(a.kyc, sort_keys=True, ensure_ascii=False),
                "updated_at": a.updated_at,
            }
            for a in accounts
        ]
        with self.engine.begin() as connection:
            existing = set(connection.scalars(select(account.c.customer_no)))
            new = [r for r in rows if r["customer_no"] not in existing]
            old = [r for r in rows if r["customer_no"] in existing]
            if new:
                connection.execute(account.insert(), new)
            if old:
                connection.execute(
                    update(account)
                    .where(account.c.customer_no == bindparam("key"))
                    .values({c: bindparam(c) for c in rows[0] if c != "customer_no"}),
                    [{**r, "key": r["customer_no"]} for r in old],
                )
        return len(rows)

    def accounts(self, customer_nos: Sequence[str]) -> list[Account]:
        result = []
        with self.engine.connect() as connection:
            for start in range(0, len(customer_nos), 1000):
                chunk = list(customer_nos[start : start + 1000])
                for row in connection.execute(
                    select(account).where(account.c.customer_no.in_(chunk))
                ):
                    result.append(
                        Account(
                            row.customer_no,
                            row.name,
                            row.branch,
                            row.tier,
                            row.balance,
                            row.mobile_banking,
                            json.loads(row.kyc),
                            _aware(row.updated_at),
                        )
                    )
        return result

    # -- applying entries ----------------------------------------------------------------------

    def apply(self, entries: Sequence[tuple[str, str, dict[str, Any]]]) -> list[Outcome]:
        """Apply (idempotency key, kind, payload) entries in order, in one transaction.

        An entry already known is answered as it was the first time and changes nothing."""
        now = datetime.now(UTC)
        keys = [key for key, _kind, _payload in entries]
        with self.engine.begin() as connection:
            pg = connection.dialect.name == "postgresql"
            known = {
                key: Outcome(key, status, reason or "")
                for key, status, reason in _known(connection, keys, pg)
            }
            fresh = [e for e in entries if e[0] not in known]
            slip_keys = {
                (p["event"], int(p["serial"]))
                for _k, kind, p in fresh
                if kind in ("slip_voided", "slip_redeemed", "slip_released")
            }
            slips: dict[tuple[str, int], dict[str, Any]] = {}
            for event_code, serial in slip_keys:
                row = connection.execute(
                    select(slip).where(slip.c.event == event_code, slip.c.serial == serial)
                ).first()
                if row is not None:
                    slips[(event_code, serial)] = dict(row._mapping)
            # Lock every account the batch may move, in one order, before judging anything.
            customers = sorted(
                {c for _k, _kind, p in fresh if (c := _customer(p))}
                | {row["customer_no"] for row in slips.values()}
            )
            balances = dict(_lock_accounts(connection, customers, pg))
            start_balances = dict(balances)
            new_slips: dict[tuple[str, int], dict[str, Any]] = {}
            changed_slips: set[tuple[str, int]] = set()
            entry_rows = []
            governance_rows = []
            account_updates: dict[str, dict[str, Any]] = {}
            outcomes: dict[str, Outcome] = {}
            for key, kind, payload in fresh:
                if key in outcomes:  # the same key twice in one batch
                    continue
                customer_no = _customer(payload)
                points = 0
                status, reason = ACCEPTED, ""
                if kind == "slip_issued":
                    points = -int(payload["points"])
                    balance = balances.get(customer_no)  # type: ignore[arg-type]
                    if balance is None:
                        status, reason = REJECTED, "unknown account"
                    elif balance + points < 0:
                        status, reason = (
                            REJECTED,
                            f"insufficient balance: {balance} < {-points}",
                        )
                    else:
                        balances[customer_no] = balance + points  # type: ignore[index]
                        slip_key = (payload["event"], int(payload["serial"]))
                        new_slips[slip_key] = {
                            "event": payload["event"],
                            "serial": int(payload["serial"]),
                            "customer_no": customer_no,
                            "merchant": payload["merchant"],
                            "offer": payload["offer"],
                            "quantity": int(payload["quantity"]),
                            "points": int(payload["points"]),
                            "status": "issued",
                            "updated_at": now,
                        }
                elif kind in ("slip_voided", "slip_released"):
                    slip_key = (payload["event"], int(payload["serial"]))
                    row = new_slips.get(slip_key) or slips.get(slip_key)
                    if row is None:
                        status, reason = REJECTED, "unknown slip (its issue was rejected)"
                    elif row["status"] != "issued":
                        status, reason = REJECTED, f"slip is {row['status']}"
                    else:
                        customer_no = row["customer_no"]
                        points = int(row["points"])
                        balances[customer_no] = balances.get(customer_no, 0) + points
                        row["status"] = "voided" if kind == "slip_voided" else "released"
                        row["updated_at"] = now
                        if slip_key not in new_slips:
                            changed_slips.add(slip_key)
                elif kind == "slip_redeemed":
                    slip_key = (payload["event"], int(payload["serial"]))
                    row = new_slips.get(slip_key) or slips.get(slip_key)
                    if row is None:
                        status, reason = REJECTED, "unknown slip"
                    elif row["status"] == "redeemed":
                        status, reason = REJECTED, "slip already redeemed"
                    elif row["status"] != "issued":
                        status, reason = REJECTED, f"slip is {row['status']}"
                    else:
                        customer_no = row["customer_no"]
                        row["status"] = "redeemed"
                        row["updated_at"] = now
                        if slip_key not in new_slips:
                            changed_slips.add(slip_key)
                elif kind == "governance" and customer_no in balances:
                    changes = account_updates.setdefault(customer_no, {})
                    changes.setdefault("kyc_changes", {}).update(payload.get("changes", {}))
                    for field, value in payload.get("changes", {}).items():
                        governance_rows.append(
                            {
                                "idempotency_key": key,
                                "customer_no": customer_no,
                                "field": field,
                                "new_value": value,
                                "at": _parse_time(payload.get("at")) or now,
                            }
                        )
                elif (
                    kind in ("mobile_banking_opened", "mobile_banking_login")
                    and customer_no in balances
                ):
                    account_updates.setdefault(customer_no, {})["mobile_banking"] = (
                        "opened" if kind == "mobile_banking_opened" else "active"
                    )
                # check-ins, charity, prizes and the like are recorded, nothing to apply.
                outcomes[key] = Outcome(key, status, reason)
                entry_rows.append(
                    {
                        "idempotency_key": key,
                        "kind": kind,
                        "customer_no": customer_no,
                        "points": points if status == ACCEPTED else 0,
                        "status": status,
                        "reason": reason or None,
                        "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False),
                        "received_at": now,
                    }
                )
            insert_rows(connection, entry, entry_rows)
            moved = [
                {"key": no, "balance": bal, "updated_at": now}
                for no, bal in balances.items()
                if bal != start_balances.get(no)
            ]
            if moved and pg:
                # One statement with arrays: the round trips, not the rows, cost a push.
                connection.exec_driver_sql(
                    "UPDATE ledger_account AS a SET balance = v.balance, updated_at = %s "
                    "FROM unnest(%s::text[], %s::bigint[]) AS v(customer_no, balance) "
                    "WHERE a.customer_no = v.customer_no",
                    (now, [m["key"] for m in moved], [m["balance"] for m in moved]),
                )
            elif moved:
                connection.execute(
                    update(account)
                    .where(account.c.customer_no == bindparam("key"))
                    .values(balance=bindparam("balance"), updated_at=bindparam("updated_at")),
                    moved,
                )
            insert_rows(connection, slip, list(new_slips.values()))
            for slip_key in changed_slips:
                row = slips[slip_key]
                connection.execute(
                    update(slip)
                    .where(slip.c.event == slip_key[0], slip.c.serial == slip_key[1])
                    .values(status=row["status"], updated_at=now)
                )
            insert_rows(connection, governance, governance_rows)
            for customer_no, changes in account_updates.items():
                values: dict[str, Any] = {"updated_at": now}
                if "mobile_banking" in changes:
                    values["mobile_banking"] = changes["mobile_banking"]
                if "kyc_changes" in changes:
                    current = connection.scalar(
                        select(account.c.kyc).where(account.c.customer_no == customer_no)
                    )
                    kyc = json.loads(current or "{}")
                    kyc.update(changes["kyc_changes"])
                    values["kyc"] = json.dumps(kyc, sort_keys=True, ensure_ascii=False)
                connection.execute(
                    update(account).where(account.c.customer_no == customer_no).values(values)
                )
        return [known.get(key) or outcomes[key] for key in keys]

    # -- reading back ------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        """Entries by status and the sum of all balances: what a reconciliation compares."""
        from sqlalchemy import func

        with self.engine.connect() as connection:
            counts = dict(
                connection.execute(
                    select(entry.c.status, func.count()).group_by(entry.c.status)
                ).all()
            )
            return {
                "accepted": counts.get(ACCEPTED, 0),
                "rejected": counts.get(REJECTED, 0),
                "balance": int(connection.scalar(select(func.sum(account.c.balance))) or 0),
                "debited": -int(
                    connection.scalar(select(func.sum(entry.c.points)).where(entry.c.points < 0))
                    or 0
                ),
                "credited": int(
                    connection.scalar(select(func.sum(entry.c.points)).where(entry.c.points > 0))
                    or 0
                ),
            }

    def slip_status(self, event_code: str, serial: int) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(
                select(slip.c.status).where(slip.c.event == event_code, slip.c.serial == serial)
            )


def _known(connection: Any, keys: list[str], pg: bool) -> list[tuple[str, str, str | None]]:
    """Entries already applied: answered as they were the first time."""
    if pg:
        return list(
            connection.exec_driver_sql(
                "SELECT idempotency_key, status, reason FROM ledger_entry "
                "WHERE idempotency_key = ANY(%s)",
                (keys,),
            )
        )
    rows = []
    for start in range(0, len(keys), 500):
        rows += connection.execute(
            select(entry.c.idempotency_key, entry.c.status, entry.c.reason).where(
                entry.c.idempotency_key.in_(keys[start : start + 500])
            )
        ).all()
    return rows


def _lock_accounts(connection: Any, customers: list[str], pg: bool) -> list[tuple[str, int]]:
    """The balances a batch may move, locked in one order so two pushes cannot deadlock."""
    if pg:
        return list(
            connection.exec_driver_sql(
                "SELECT customer_no, balance FROM ledger_account WHERE customer_no = ANY(%s) "
                "ORDER BY customer_no FOR UPDATE",
                (customers,),
            )
        )
    rows = []
    for start in range(0, len(customers), 500):
        rows += connection.execute(
            select(account.c.customer_no, account.c.balance).where(
                account.c.customer_no.in_(customers[start : start + 500])
            )
        ).all()
    return rows


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
