"""The reference central points ledger: what the bank's system does with what a kiosk sends.

Any SQLAlchemy URL (PostgreSQL in production and the integration tests, SQLite for the demo).
An account holds its points in lots (``ledger_lot``: points earned together expire together,
积分批次); a plain balance is one lot ``""`` without expiry. The balance is never stored: it is
the sum of the lots not expired on the day asked about. ``ledger_entry`` is append-only with a
unique idempotency key, so an entry sent twice is answered from the first time and never
applied again; a debit the lots cannot cover is stored as rejected with its reason and never
applied.

A slip's debit names the lots the kiosk took (expiring first); the ledger debits exactly
those, or, for an entry from a kiosk without lots, chooses the same way itself. The slip row
remembers the lots, so a void or a release credits the same lots back, even one that has
expired since (as the kiosk does).

A batch is one transaction: the accounts it touches are locked (``FOR UPDATE``, in customer
order), their lots read once, every entry is judged in order against the running lots, then
entries, lots and slips are written in bulk (``unnest`` arrays and COPY on PostgreSQL). On
PostgreSQL the reads are one pipelined round trip and the entries' COPY is streamed while
they are judged (``_read_batch_pg``, ``_copy_in``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    inspect,
    make_url,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError, OperationalError

from kiosk import netwait, readonly
from kiosk.bulk import insert_rows
from kiosk.db import create_db_engine
from kiosk.errors import KioskError
from kiosk.i18n import _

ACCEPTED, REJECTED = "accepted", "rejected"
SCHEMA_VERSION = 2  # 2: points in lots (``ledger_lot``), AUM, the lots on each slip
# The bank's day: a lot expires at the end of its date there.
LEDGER_TIMEZONE = ZoneInfo("Asia/Shanghai")

metadata = MetaData()

account = Table(
    "ledger_account",
    metadata,
    Column("customer_no", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("branch", String(16), nullable=False, default=""),
    Column("tier", String(16), nullable=False, default="standard"),
    Column("aum", BigInteger),  # assets under management, yuan; None: not known
    Column("mobile_banking", String(8), nullable=False, default="none"),
    Column("kyc", Text, nullable=False, default="{}"),  # canonical JSON of the KYC fields
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

lot = Table(
    "ledger_lot",
    metadata,
    Column("customer_no", String(32), primary_key=True),
    Column("ref", String(32), primary_key=True),
    Column("points", BigInteger, nullable=False),  # what is left of the lot
    Column("expires_on", Date),  # None: does not expire; spendable through this date
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
    # The lots the debit took, canonical JSON [{"lot": ref, "points": n}]: a void or a
    # release credits the same ones.
    Column("lots", Text, nullable=False, default="[]"),
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

# The accounts an event's snapshot holds (its invitation list at the bank): what an event's
# token may read over HTTPS. ``kiosk ledger seed`` writes it from the event's customers.
event_account = Table(
    "ledger_event_account",
    metadata,
    Column("event", String(16), primary_key=True),
    Column("customer_no", String(32), primary_key=True),
)

# Bearer tokens of the HTTPS service (sync/api.py), one or more per event. Only the SHA-256 of
# the secret is stored: the token is printed once, when it is made.
token = Table(
    "ledger_token",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("event", String(16), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

meta = Table(
    "ledger_meta",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(64), nullable=False),
)


# The event signing keys this ledger trusts for batch files (``sync.batch``): a key is trusted
# only when the ledger's operator names its fingerprint (``kiosk ledger apply-batch --trust``).
event_key = Table(
    "ledger_event_key",
    metadata,
    Column("event", String(16), primary_key=True),
    Column("fingerprint", String(32), primary_key=True),  # as printed: 1a2b-3c4d-…
    Column("public_key", String(64), nullable=False),  # raw Ed25519, hex
    Column("trusted_at", DateTime(timezone=True), nullable=False),
)

# The ledger's own Ed25519 key that signs answer files lives in ``ledger_meta`` under this
# name (raw private key, hex: exactly 64 characters), created once.
ANSWER_KEY = "answer_key"


class LedgerError(KioskError):
    """The ledger cannot be reached or is not a ledger; one sentence says which."""


class Outcome(NamedTuple):
    """The ledger's answer to one entry. A named tuple, not a frozen dataclass: a push makes
    one per entry in the judging loop, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) took twice as long (450 ns against 230)."""

    key: str
    status: str  # accepted / rejected
    reason: str = ""


@dataclass(frozen=True)
class Lot:
    """One lot of an account: ``points`` left, spendable through ``expires_on`` (None: no
    expiry)."""

    ref: str
    points: int
    expires_on: date | None = None


@dataclass(frozen=True)
class Account:
    """An account as the ledger reports it (``accounts``) or is seeded with
    (``upsert_accounts``). ``balance`` is the unexpired lots' sum on the day asked about; an
    account seeded without ``lots`` gets one lot ``""`` of ``balance`` without expiry."""

    customer_no: str
    name: str
    branch: str
    tier: str
    balance: int
    mobile_banking: str
    kyc: dict[str, Any]
    updated_at: datetime
    lots: tuple[Lot, ...] = field(default=())
    aum: int | None = None


def _payload_encoder() -> Callable[[Any], str]:
    """``kiosk.audit.canonical_json``: ``json.dumps(payload, sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))``, how the ledger stores a payload, one per
    entry (100,000 in a busy day's push). The same text the kiosk's outbox holds, so a push
    from the same process hands the outbox's text over as it is (``Ledger.apply``'s
    ``texts``) and what is stored does not depend on the way the entry came.

    ``JSONEncoder.encode`` builds a new C encoder (and a float formatter closure) on every
    call, which cost a push about as much as the encoding itself. The C encoder it builds is
    built here once, with exactly the arguments ``encode`` passes, and kept (Python 3.11 to
    3.13 call it the same way). It is used only if it writes exactly what ``encode`` writes
    for a sample with every kind of value, and otherwise (another Python, no C speedups) the
    plain ``encode`` is. No circular-reference markers: a payload is decoded JSON, which
    cannot be circular (one that was would end in RecursionError instead of ValueError)."""
    plain = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
    try:
        from json.encoder import c_make_encoder, encode_basestring

        def default(value: Any) -> Any:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

        iterencode = c_make_encoder(
            None, default, encode_basestring, None, ":", ",", True, False, True
        )

        def fast(value: Any) -> str:
            return "".join(iterencode(value, 0))

        sample = {
            "b": [1, -2.5, 1e300, True, False, None, "", 'q"\\\n\t\u2028中𫖯'],
            "a": {"z": {}, "y": [], "x": 2**60},
            "c": "x",
        }
        if fast(sample) == plain(sample) and fast("s") == plain("s"):
            return fast
    except Exception:  # any surprise: the plain encoder, always right
        pass
    return plain


_canonical = _payload_encoder()


def ledger_today() -> date:
    """The ledger's own day (the bank's clock, not a kiosk's)."""
    return datetime.now(LEDGER_TIMEZONE).date()


def _fifo(item: tuple[str, list[Any]]) -> tuple[bool, date, str]:
    """Expiring first, undated last; the ref keeps the order stable (as ``kiosk.points``)."""
    ref, (_points, expires_on) = item
    return (expires_on is None, expires_on or date.max, ref)


def _expired(expires_on: date | None, day: date) -> bool:
    return expires_on is not None and expires_on < day


def _name(ref: str) -> str:
    return ref if ref else '""'


def _unanswered(url: str, bound: float) -> Callable[[ExceptionContext], None]:
    """A ``handle_error`` listener: a ledger connection that breaks or stays silent (no
    answer within ``bound``, ``kiosk.netwait``) is said in one sentence, wherever it
    happens (connect, a statement, COMMIT), instead of a driver's error."""

    def said(context: ExceptionContext) -> None:
        original = context.original_exception
        silent = isinstance(original, netwait.NoAnswer)
        connecting = context.connection is None and isinstance(original, psycopg_operational())
        if not (silent or context.is_disconnect or connecting):
            return
        raise _unreached(url, bound, original)

    return said


def _unreached(url: str, bound: float, original: BaseException) -> LedgerError:
    """The sentence for a ledger connection that broke or stayed silent (``_unanswered``)."""
    where = make_url(url).render_as_string(hide_password=True)
    if isinstance(original, netwait.NoAnswer):
        return LedgerError(
            _(
                "The points ledger at {url} did not answer within {seconds} seconds; "
                "nothing unanswered was marked, so run it again when the ledger answers."
            ).format(url=where, seconds=f"{bound:g}")
        )
    reason = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return LedgerError(
        _("The points ledger cannot be reached: {reason}").format(reason=reason or where)
    )


def psycopg_operational() -> tuple[type[BaseException], ...]:
    """psycopg's OperationalError, when the driver is installed (a PostgreSQL ledger)."""
    try:
        import psycopg
    except ModuleNotFoundError:  # pragma: no cover - psycopg is a dependency
        return ()
    return (psycopg.OperationalError,)


class Ledger:
    """A connection to a central ledger database."""

    def __init__(self, engine: Engine, *, bound: float | None = None) -> None:
        self.engine = engine
        # For the sentence of a driver-level statement (a COPY, a pipeline) that SQLAlchemy's
        # ``handle_error`` never sees.
        self.bound = netwait.command_bound() if bound is None else bound
        # Whether the last batch applied on PostgreSQL met none of its keys already stored:
        # the next one then skips looking its keys up (``apply``). A guess, never a decision.
        self._fresh = False

    @classmethod
    def open(cls, url: str, *, create: bool = False, bound: float | None = None) -> Ledger:
        """The ledger at ``url``. Every wait on its server is bounded (``bound`` seconds for
        any one answer, ``netwait.command_bound()`` by default; a new connection within
        ``netwait.COMMAND_CONNECT_TIMEOUT``): a ledger that stops answering, its TCP
        connection still open, ends the push or pull with ``LedgerError`` and a sentence,
        and nothing unanswered is marked (push marks only from the ledger's answers)."""
        bound = netwait.command_bound() if bound is None else bound
        engine = create_db_engine(url, bound=bound, server_timeouts=False)
        sa_event.listen(engine, "handle_error", _unanswered(url, bound))
        try:
            if create:
                fresh = not inspect(engine).has_table("ledger_entry")
                metadata.create_all(engine)
                with engine.begin() as connection:
                    if (
                        connection.scalar(select(meta.c.value).where(meta.c.name == "schema"))
                        is None
                    ):
                        connection.execute(
                            meta.insert().values(
                                name="schema", value=str(SCHEMA_VERSION if fresh else 1)
                            )
                        )
            elif not inspect(engine).has_table("ledger_entry"):
                engine.dispose()
                raise LedgerError(
                    _("{url} is not a points ledger; create it with kiosk ledger init.").format(
                        url=url
                    )
                )
            with engine.begin() as connection:
                version = connection.scalar(select(meta.c.value).where(meta.c.name == "schema"))
                if version is not None and int(version) < 2:
                    _upgrade_to_lots(connection)
        except OperationalError as error:
            engine.dispose()
            raise LedgerError(
                _("The points ledger cannot be reached: {reason}").format(
                    reason=str(error.orig).strip().splitlines()[0] if error.orig else error
                )
            ) from None
        return cls(engine, bound=bound)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- batch files: the ledger's key and the event keys it trusts --------------------------

    def answer_key(self) -> Ed25519PrivateKey:
        """The ledger's own signing key for answer files, created on first use and kept in
        ``ledger_meta`` (the ledger's database is the bank's; it never leaves it)."""
        with self.engine.begin() as connection:
            value = connection.scalar(select(meta.c.value).where(meta.c.name == ANSWER_KEY))
        if value is None:
            raw = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            try:
                with self.engine.begin() as connection:
                    connection.execute(meta.insert().values(name=ANSWER_KEY, value=raw.hex()))
            except IntegrityError:
                pass  # another apply-batch created it first: use that one
            with self.engine.begin() as connection:
                value = connection.scalar(select(meta.c.value).where(meta.c.name == ANSWER_KEY))
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(str(value)))

    def event_keys(self, event_code: str) -> dict[str, str]:
        """The event keys trusted for ``event_code``: fingerprint -> raw public key (hex)."""
        metadata.create_all(self.engine, tables=[event_key])  # a ledger from before batches
        with self.engine.connect() as connection:
            return {
                fingerprint: public
                for fingerprint, public in connection.execute(
                    select(event_key.c.fingerprint, event_key.c.public_key).where(
                        event_key.c.event == event_code
                    )
                )
            }

    def trust_event_key(self, event_code: str, fingerprint: str, public_key: str) -> None:
        """Trust an event key from now on (the operator named its fingerprint)."""
        if fingerprint in self.event_keys(event_code):
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    event_key.insert().values(
                        event=event_code,
                        fingerprint=fingerprint,
                        public_key=public_key,
                        trusted_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            pass  # another apply-batch trusted it at the same moment

    # -- accounts ----------------------------------------------------------------------------

    def upsert_accounts(self, accounts: Iterable[Account], *, event: str | None = None) -> int:
        """Create or replace accounts (``kiosk ledger seed``) with their lots: lots matched on
        their ref are replaced, new ones added, an existing lot not given is kept at 0 points
        (a slip may name it). With ``event``, the accounts join that event's snapshot (what
        its token may pull over HTTPS)."""
        given = list(accounts)
        if event is not None:
            self.add_to_event(event, [a.customer_no for a in given])
        rows = [
            {
                "customer_no": a.customer_no,
                "name": a.name,
                "branch": a.branch,
                "tier": a.tier,
                "aum": a.aum,
                "mobile_banking": a.mobile_banking,
                "kyc": json.dumps(a.kyc, sort_keys=True, ensure_ascii=False),
                "updated_at": a.updated_at,
            }
            for a in given
        ]
        lot_rows = [
            {
                "customer_no": a.customer_no,
                "ref": x.ref,
                "points": x.points,
                "expires_on": x.expires_on,
            }
            for a in given
            for x in (a.lots or (Lot("", a.balance),))
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
            # Lots not given again are kept at 0; the given ones are replaced or added.
            numbers = [r["customer_no"] for r in old]
            known: set[tuple[str, str]] = set()
            for start in range(0, len(numbers), 500):
                chunk = numbers[start : start + 500]
                connection.execute(update(lot).where(lot.c.customer_no.in_(chunk)).values(points=0))
                known.update(
                    (no, ref)
                    for no, ref in connection.execute(
                        select(lot.c.customer_no, lot.c.ref).where(lot.c.customer_no.in_(chunk))
                    )
                )
            replaced = [r for r in lot_rows if (r["customer_no"], r["ref"]) in known]
            if replaced:
                connection.execute(
                    update(lot)
                    .where(lot.c.customer_no == bindparam("key"), lot.c.ref == bindparam("key_ref"))
                    .values(points=bindparam("points"), expires_on=bindparam("expires_on")),
                    [{**r, "key": r["customer_no"], "key_ref": r["ref"]} for r in replaced],
                )
            insert_rows(
                connection,
                lot,
                [r for r in lot_rows if (r["customer_no"], r["ref"]) not in known],
            )
        return len(rows)

    def accounts(self, customer_nos: Sequence[str], today: date | None = None) -> list[Account]:
        """The accounts asked for, with every lot (spent and expired ones too, FIFO order)
        and the balance of the lots not expired on ``today`` (the ledger's day by default)."""
        day = today or ledger_today()
        result = []
        with self.engine.connect() as connection:
            for start in range(0, len(customer_nos), 1000):
                chunk = list(customer_nos[start : start + 1000])
                lots: dict[str, dict[str, list[Any]]] = {}
                for no, ref, points, expires_on in connection.execute(
                    select(lot.c.customer_no, lot.c.ref, lot.c.points, lot.c.expires_on).where(
                        lot.c.customer_no.in_(chunk)
                    )
                ):
                    lots.setdefault(no, {})[ref] = [int(points), expires_on]
                for row in connection.execute(
                    select(account).where(account.c.customer_no.in_(chunk))
                ):
                    held = sorted(lots.get(row.customer_no, {}).items(), key=_fifo)
                    result.append(
                        Account(
                            row.customer_no,
                            row.name,
                            row.branch,
                            row.tier,
                            sum(p for _r, (p, e) in held if not _expired(e, day)),
                            row.mobile_banking,
                            json.loads(row.kyc),
                            _aware(row.updated_at),
                            tuple(
                                Lot(ref, points, expires_on) for ref, (points, expires_on) in held
                            ),
                            None if row.aum is None else int(row.aum),
                        )
                    )
        return result

    def add_to_event(self, event: str, customer_nos: Sequence[str]) -> None:
        """Put accounts on an event's snapshot (already there: kept once)."""
        metadata.create_all(self.engine, tables=[event_account])
        with self.engine.begin() as connection:
            there = set(
                connection.scalars(
                    select(event_account.c.customer_no).where(event_account.c.event == event)
                )
            )
            insert_rows(
                connection,
                event_account,
                [
                    {"event": event, "customer_no": no}
                    for no in dict.fromkeys(customer_nos)
                    if no not in there
                ],
            )

    def event_accounts(
        self, event: str, *, after: str = "", limit: int = 1000, today: date | None = None
    ) -> list[Account]:
        """One page of an event's snapshot: its accounts after customer number ``after``, in
        customer order, as ``accounts`` reports them."""
        metadata.create_all(self.engine, tables=[event_account])
        with self.engine.connect() as connection:
            numbers = list(
                connection.scalars(
                    select(event_account.c.customer_no)
                    .where(event_account.c.event == event, event_account.c.customer_no > after)
                    .order_by(event_account.c.customer_no)
                    .limit(limit)
                )
            )
        found = {a.customer_no: a for a in self.accounts(numbers, today)}
        return [found[no] for no in numbers if no in found]

    # -- tokens of the HTTPS service -----------------------------------------------------------

    def create_token(self, event: str) -> str:
        """A new bearer token for ``event``: ``ID.SECRET``, returned once; only the secret's
        SHA-256 is kept."""
        metadata.create_all(self.engine, tables=[token])
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(
                token.insert().values(
                    id=token_id,
                    event=event,
                    secret_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                    created_at=datetime.now(UTC),
                )
            )
        return f"{token_id}.{secret}"

    def revoke_token(self, token_id: str) -> bool:
        """Revoke a token by its id (the part before the dot); False when there is none."""
        metadata.create_all(self.engine, tables=[token])
        with self.engine.begin() as connection:
            done = connection.execute(
                update(token)
                .where(token.c.id == token_id.split(".", 1)[0], token.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return bool(done.rowcount)

    def token_event(self, presented: str) -> str | None:
        """The event a presented token stands for; None when it is unknown, wrong or revoked."""
        token_id, _dot, secret = presented.partition(".")
        if not token_id or not secret:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(
                select(token.c.event, token.c.secret_sha256).where(
                    token.c.id == token_id, token.c.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            return None
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return row.event if hmac.compare_digest(digest, row.secret_sha256) else None

    def points_stock(self, today: date | None = None) -> int:
        """Every account's points not expired on ``today``: the bank's whole points stock, the
        denominator the bank divides redemptions by."""
        day = today or ledger_today()
        with self.engine.connect() as connection:
            return int(
                connection.scalar(
                    select(func.coalesce(func.sum(lot.c.points), 0)).where(
                        or_(lot.c.expires_on.is_(None), lot.c.expires_on >= day)
                    )
                )
                or 0
            )

    # -- applying entries ----------------------------------------------------------------------

    def apply(
        self,
        entries: Sequence[tuple[str, str, dict[str, Any]]],
        today: date | None = None,
        *,
        judged: Callable[[], None] | None = None,
        texts: Sequence[str | None] | None = None,
    ) -> list[Outcome]:
        """Apply (idempotency key, kind, payload) entries in order, in one transaction.

        An entry already known is answered as it was the first time and changes nothing.
        Expiry is judged on the day the entry happened (its ``at``, on the bank's clock): a
        slip issued at the event may take a lot that has expired by the time it is pushed.
        ``today`` stands for an entry without ``at`` (the ledger's day by default).

        Two pushes of the same entries at once (two laptops, or a push run again while the
        first still runs) both find the keys absent, and the second to write them meets the
        first's rows in the unique key: its transaction is rolled back and the batch applied
        again, now answered from the first's keys, so each entry is stored once with one
        outcome and neither push fails. A deadlock between two such pushes (keys of entries
        without an account, written in different interleavings) is retried the same way.

        ``judged`` is called (in this thread) when every entry is judged and what is left is
        the server's: the rest of the entries' COPY, the lots, accounts and slips, the
        COMMIT; on PostgreSQL also before the batch's keys are looked up (a push run again,
        whose entries are nearly all known: the lookup is then most of the batch, and the
        server's). A push in the same process (``sync.push``) does its own work then, while
        this thread mostly waits for the server, instead of taking the interpreter from the
        judging. It changes nothing the batch does.

        ``texts`` (one per entry, or None where not known) are the payloads as
        ``kiosk.audit.canonical_json`` wrote them: stored as they are, not encoded again. A
        push in the same process (``sync.push``) hands over its outbox's texts, which the
        payloads were decoded from; encoding them again was a third of judging a batch. The
        stored text is the same either way (``_canonical`` writes canonical JSON too).

        On PostgreSQL, once a batch met none of its keys already stored, the next one is
        applied without looking its keys up first (a push's batches are nearly always all
        new: the lookup of 5,000 keys was a fifth of the server's work on a batch, before
        any entry could be judged). An entry stored already then fails the batch's COPY on
        the unique key, which rolls everything back, and the batch is applied again with
        its keys looked up, answered as they were the first time; so is every batch after
        one that met a stored key, until one meets none. What is stored and answered is the
        same either way; only a push run again pays a batch judged twice."""
        look_up = not self._fresh
        attempt = 0
        while True:
            try:
                return self._apply_once(entries, today, judged, look_up=look_up, texts=texts)
            except Exception as error:
                if not _raced(error):
                    raise
                if not look_up:  # the guess that nothing was stored was wrong: look up now
                    look_up = True
                    self._fresh = False
                    continue
                attempt += 1
                if attempt == _APPLY_ATTEMPTS:
                    raise

    def _apply_once(
        self,
        entries: Sequence[tuple[str, str, dict[str, Any]]],
        today: date | None,
        judged: Callable[[], None] | None = None,
        *,
        look_up: bool = True,
        texts: Sequence[str | None] | None = None,
    ) -> list[Outcome]:
        """One attempt of ``apply``, in one transaction. ``look_up=False`` (PostgreSQL only):
        the batch's keys are taken as new without reading them (``apply``); one that is not
        fails the entries' COPY on the unique key."""
        now = datetime.now(UTC)
        fallback_day = today or ledger_today()
        keys = [key for key, _kind, _payload in entries]
        # Each entry with its payload's text (None: encoded here when stored).
        if texts is not None and len(texts) != len(entries):
            raise ValueError(f"{len(texts)} payload texts for {len(entries)} entries")
        texted = [
            (key, kind, payload, text)
            for (key, kind, payload), text in zip(
                entries,
                texts or repeat(None),
                strict=False,  # length checked above
            )
        ]
        with self.engine.begin() as connection, self._said(connection):
            pg = connection.dialect.name == "postgresql"
            if pg:
                # What the batch must know before judging, in one round trip: the slips its
                # voids, releases and redemptions name first, locked (``_read_slips``; their
                # accounts are locked too), then the known keys, the locks and the lots
                # pipelined. The accounts of every entry are locked, known or not: deciding
                # which are fresh first would cost a round trip of its own, and a known
                # entry's account is locked needlessly only on a push run again.
                slips = _read_slips(connection, _slip_keys(entries))
                if look_up and judged is not None:
                    judged()  # the keys' lookup is the server's; most are known on a re-push
                known_rows, locked_rows, lot_rows = _read_batch_pg(
                    connection,
                    keys if look_up else [],
                    sorted(
                        {c for _k, _kind, p in entries if (c := p.get("customer_no"))}
                        | {row["customer_no"] for row in slips.values()}
                    ),
                )
                known = {
                    key: Outcome(key, status, reason or "") for key, status, reason in known_rows
                }
                if look_up:
                    self._fresh = not known
                fresh = [e for e in texted if e[0] not in known] if known else texted
                locked = set(locked_rows)
                lots = _group_lots(row for row in lot_rows if row[0] in locked)
            else:
                known = {
                    key: Outcome(key, status, reason or "")
                    for key, status, reason in _known(connection, keys)
                }
                fresh = [e for e in texted if e[0] not in known]
                slips = _read_slips(connection, _slip_keys(fresh))
                # Lock every account the batch may move, in one order, before judging.
                customers = sorted(
                    {c for _k, _kind, p, _text in fresh if (c := p.get("customer_no"))}
                    | {row["customer_no"] for row in slips.values()}
                )
                locked = set(_lock_accounts(connection, customers))
                # customer -> ref -> [points left, expires_on]; the start tells what moved.
                lots = _read_lots(connection, sorted(locked))
            start_points = {
                (no, ref): held[0] for no, by_ref in lots.items() for ref, held in by_ref.items()
            }
            # Accounts with a lot that can expire, found once: a batch only ever adds undated
            # lots (a give-back to lot ""), so this stays true while it is judged.
            dated = {
                no
                for no, by_ref in lots.items()
                if any(expires_on is not None for _p, expires_on in by_ref.values())
            }
            new_slips: dict[tuple[str, int], dict[str, Any]] = {}
            changed_slips: set[tuple[str, int]] = set()
            entry_rows: list[tuple[Any, ...]] = []
            governance_rows = []
            account_updates: dict[str, dict[str, Any]] = {}
            moved_accounts: set[str] = set()
            outcomes: dict[str, Outcome] = {}
            # The entries go to the ledger's server while the rest are judged (_copy_in).
            with _copy_in(connection, entry, _ENTRY_COLUMNS, pg, _entry_copy_text) as send:
                for key, kind, payload, text in fresh:
                    if key in outcomes:  # the same key twice in one batch
                        continue
                    customer_no = payload.get("customer_no")
                    points = 0
                    status, reason = ACCEPTED, ""
                    if kind == "slip_issued":
                        wanted = int(payload["points"])
                        if customer_no not in locked:
                            status, reason = REJECTED, "unknown account"
                        else:
                            held = lots.setdefault(customer_no, {})  # type: ignore[arg-type]
                            # The entry's day only matters to a lot that can expire: most lots
                            # cannot, and parsing ``at`` is most of judging a slip.
                            day = fallback_day
                            if customer_no in dated:
                                day = _day(payload, fallback_day)
                            named = payload.get("lots")
                            if named is None:  # a kiosk from before lots: the ledger chooses
                                taken, reason = _take_fifo(held, wanted, day)
                            else:
                                taken = [(str(x["lot"]), int(x["points"])) for x in named]
                                reason = _check_named(held, taken, wanted, day)
                            if reason:
                                status = REJECTED
                            else:
                                points = -wanted
                                for ref, n in taken:
                                    held[ref][0] -= n
                                moved_accounts.add(customer_no)  # type: ignore[arg-type]
                                slip_key = (payload["event"], int(payload["serial"]))
                                new_slips[slip_key] = {
                                    "event": payload["event"],
                                    "serial": int(payload["serial"]),
                                    "customer_no": customer_no,
                                    "merchant": payload["merchant"],
                                    "offer": payload["offer"],
                                    "quantity": int(payload["quantity"]),
                                    "points": wanted,
                                    "lots": _lots_json(taken),
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
                            _credit(lots.setdefault(customer_no, {}), row, points)  # type: ignore[arg-type]
                            moved_accounts.add(customer_no)  # type: ignore[arg-type]
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
                    elif kind == "governance" and customer_no in locked:
                        changes = account_updates.setdefault(customer_no, {})  # type: ignore[arg-type]
                        changes.setdefault("kyc_changes", {}).update(payload.get("changes", {}))
                        for name, value in payload.get("changes", {}).items():
                            governance_rows.append(
                                {
                                    "idempotency_key": key,
                                    "customer_no": customer_no,
                                    "field": name,
                                    "new_value": value,
                                    "at": _parse_time(payload.get("at")) or now,
                                }
                            )
                    elif (
                        kind in ("mobile_banking_opened", "mobile_banking_login")
                        and customer_no in locked
                    ):
                        account_updates.setdefault(customer_no, {})["mobile_banking"] = (  # type: ignore[arg-type]
                            "opened" if kind == "mobile_banking_opened" else "active"
                        )
                    # check-ins, charity, prizes and the like are recorded, nothing to apply.
                    outcomes[key] = Outcome(key, status, reason)
                    entry_rows.append(
                        (
                            key,
                            kind,
                            customer_no,
                            points if status == ACCEPTED else 0,
                            status,
                            reason or None,
                            text or _canonical(payload),
                            now,
                        )
                    )
                    if len(entry_rows) == _STREAM_ROWS:
                        send(entry_rows)
                        entry_rows = []
                send(entry_rows)
                # What follows the entries is made ready while the server still inserts
                # them (the last thousand or so were written just now).
                changed, created = _moved_lots(lots, start_points)
                slip_rows = list(map(itemgetter(*_SLIP_COLUMNS), new_slips.values()))
                slip_text = _copy_text(slip_rows) if pg else None
                if judged is not None:
                    judged()
            insert_rows(connection, lot, created)
            _update_lots_and_accounts(connection, changed, sorted(moved_accounts), now, pg)
            _insert(connection, slip, _SLIP_COLUMNS, slip_rows, pg, slip_text)
            if changed_slips:
                # One statement for all (psycopg pipelines the parameter sets), not one
                # round trip per voided, released or redeemed slip.
                connection.execute(
                    update(slip)
                    .where(slip.c.event == bindparam("key_event"))
                    .where(slip.c.serial == bindparam("key_serial"))
                    .values(status=bindparam("new_status"), updated_at=now),
                    [
                        {"key_event": e, "key_serial": n, "new_status": slips[(e, n)]["status"]}
                        for e, n in sorted(changed_slips)
                    ],
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

    @contextmanager
    def _said(self, connection: Any) -> Iterator[None]:
        """A COPY or pipeline on the driver's connection (``_read_batch_pg``, ``_copy_in``,
        ``_update_lots_and_accounts``) that finds the ledger silent or gone says so in the
        same sentence as a statement through SQLAlchemy (``_unanswered``, which never sees
        them). The connection is invalidated first, so leaving the transaction does not try a
        rollback on it and say something else."""
        try:
            yield
        except Exception as error:
            if connection.dialect.name != "postgresql":
                raise
            raw = connection.connection.driver_connection if not connection.invalidated else None
            gone = raw is None or raw.closed or getattr(raw, "broken", False)
            silent = isinstance(error, netwait.NoAnswer)  # psycopg's, raised by kiosk.netwait_pg
            if not (silent or (gone and isinstance(error, psycopg_operational()))):
                raise
            if not connection.invalidated:
                connection.invalidate()
            url = self.engine.url.render_as_string(hide_password=False)
            raise _unreached(url, self.bound, error) from None

    # -- reading back ------------------------------------------------------------------------

    def checkpoints(self, event_code: str) -> list[dict[str, Any]]:
        """The signed checkpoints of an event's audit chain the kiosk pushed (entries of kind
        ``audit_checkpoint``, kept as sent: nothing is applied for them), oldest first. The
        event's coordinator compares the chain with them (``kiosk audit verify
        --checkpoint``): the ledger's copy is out of reach of whoever holds the event's
        database."""
        with self.engine.connect() as connection:
            payloads = connection.execute(
                select(entry.c.payload)
                .where(entry.c.kind == "audit_checkpoint", entry.c.status == ACCEPTED)
                .order_by(entry.c.id)
            ).scalars()
            found = [json.loads(p) for p in payloads]
        return [p for p in found if isinstance(p, dict) and p.get("event") == event_code]

    def totals(self) -> dict[str, int]:
        """Entries by status and the points all lots hold (expired or not): what a
        reconciliation compares."""
        with self.engine.connect() as connection:
            counts = dict(
                connection.execute(
                    select(entry.c.status, func.count()).group_by(entry.c.status)
                ).all()
            )
            return {
                "accepted": counts.get(ACCEPTED, 0),
                "rejected": counts.get(REJECTED, 0),
                "balance": int(connection.scalar(select(func.sum(lot.c.points))) or 0),
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

    def slip_lots(self, event_code: str, serial: int) -> list[tuple[str, int]]:
        """The (lot ref, points) a slip's debit took: what a void or release credits back."""
        with self.engine.connect() as connection:
            text = connection.scalar(
                select(slip.c.lots).where(slip.c.event == event_code, slip.c.serial == serial)
            )
        return [(x["lot"], int(x["points"])) for x in json.loads(text or "[]")]


def _day(payload: dict[str, Any], fallback: date) -> date:
    """The bank's day on which the entry happened."""
    at = _parse_time(payload.get("at"))
    if at is None:
        return fallback
    return _aware(at).astimezone(LEDGER_TIMEZONE).date()


def _take_fifo(
    held: dict[str, list[Any]], wanted: int, day: date
) -> tuple[list[tuple[str, int]], str]:
    """The lots an entry without lots takes: expiring first, undated last, as a kiosk does;
    or the reason it is refused."""
    if len(held) == 1:  # most accounts: one lot, nothing to sort (a push judges 80,000 slips)
        ((ref, (points, expires_on)),) = held.items()
        left = points if points > 0 and not _expired(expires_on, day) else 0
        if left < wanted:
            return [], f"insufficient balance: {left} < {wanted}"
        return ([(ref, wanted)] if wanted > 0 else []), ""
    spendable = [
        (ref, p)
        for ref, (p, e) in sorted(held.items(), key=_fifo)
        if p > 0 and not _expired(e, day)
    ]
    left = sum(p for _ref, p in spendable)
    if left < wanted:
        return [], f"insufficient balance: {left} < {wanted}"
    taken, need = [], wanted
    for ref, p in spendable:
        if need <= 0:
            break
        take = min(p, need)
        taken.append((ref, take))
        need -= take
    return taken, ""


def _check_named(
    held: dict[str, list[Any]], taken: list[tuple[str, int]], wanted: int, day: date
) -> str:
    """Why the lots a kiosk named cannot be debited as named ("" when they can)."""
    total = sum(n for _ref, n in taken)
    if total != wanted:
        return f"lots add up to {total}, not {wanted}"
    asked: dict[str, int] = {}
    for ref, n in taken:
        if n < 0:
            return f"lot {_name(ref)}: negative points {n}"
        asked[ref] = asked.get(ref, 0) + n
    for ref, n in asked.items():
        if ref not in held:
            return f"unknown lot {_name(ref)}"
        points, expires_on = held[ref]
        if _expired(expires_on, day):
            return f"lot {_name(ref)} expired on {expires_on.isoformat()}"
        if points < n:
            return f"lot {_name(ref)} insufficient: {points} < {n}"
    return ""


def _credit(held: dict[str, list[Any]], row: dict[str, Any], points: int) -> None:
    """Give a voided or released slip's points back to the lots its debit took, expired or
    not. A slip from before lots (none recorded) gives back to the first undated lot, or to a
    new lot "" (as ``kiosk.points.give_back``)."""
    taken = [(x["lot"], int(x["points"])) for x in json.loads(row.get("lots") or "[]")]
    if not taken:
        undated = sorted(ref for ref, (_p, e) in held.items() if e is None)
        taken = [(undated[0] if undated else "", points)]
    for ref, n in taken:
        held.setdefault(ref, [0, None])[0] += n


def _lots_json(taken: list[tuple[str, int]]) -> str:
    """``json.dumps([{"lot": ref, "points": n}, ...], sort_keys=True)``, written out: one per
    slip of a push, where the general encoder cost more than the rest of judging the entry.
    The ref goes through ``json.dumps`` unless it is plain ASCII letters and digits, which
    need no escaping (tests/unit/sync/test_ledger_json.py compares the two). A slip takes
    one lot nearly always: that one is written without a generator."""
    if len(taken) == 1:
        ref, n = taken[0]
        if ref.isascii() and (ref.isalnum() or not ref):
            return f'[{{"lot": "{ref}", "points": {int(n)}}}]'
    return (
        "["
        + ", ".join(
            f'{{"lot": "{ref}", "points": {int(n)}}}'
            if ref.isascii() and (ref.isalnum() or not ref)
            else f'{{"lot": {json.dumps(ref)}, "points": {int(n)}}}'
            for ref, n in taken
        )
        + "]"
    )


def _text_array(values: Sequence[str]) -> str:
    """A PostgreSQL ``text[]`` literal of ``values``, every element quoted (so none reads as
    NULL) with ``"`` and ``\\`` escaped. Sent as one string and cast (``%s::text[]``): psycopg
    dumps a Python list element by element in Python, which for a batch's 5,000 keys cost
    more than the query. Keys and customer numbers have neither character to escape, so the
    values are joined at once when the joined text shows none (one scan, not two replaces per
    value): no backslash, and no quote but the separators' own (the check once looked for
    any quote, separators included, so every list of two or more values was escaped one by
    one)."""
    if not values:
        return "{}"
    joined = '","'.join(values)
    if "\\" not in joined and joined.count('"') == 2 * (len(values) - 1):
        return '{"' + joined + '"}'
    return (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


_APPLY_ATTEMPTS = 5  # a batch raced by a concurrent push of the same entries is applied again

# ``ledger_entry`` and ``ledger_slip`` columns in the order ``apply`` builds their rows.
_ENTRY_COLUMNS = (
    "idempotency_key",
    "kind",
    "customer_no",
    "points",
    "status",
    "reason",
    "payload",
    "received_at",
)
_SLIP_COLUMNS = (
    "event",
    "serial",
    "customer_no",
    "merchant",
    "offer",
    "quantity",
    "points",
    "lots",
    "status",
    "updated_at",
)


def _raced(error: Exception) -> bool:
    """A batch's transaction lost to a concurrent push of the same entries: a unique
    violation (its keys written by the other meanwhile) or a deadlock detected between the
    two, from SQLAlchemy or, for a COPY on the driver's connection, from psycopg itself.
    Applying it again answers the raced entries from the other's rows. SQLite's integrity
    errors (no SQLSTATE) are retried too: the retry either succeeds or meets the same error,
    which is then raised as before."""
    if isinstance(error, IntegrityError):
        return getattr(error.orig, "sqlstate", None) in (None, "23505")  # unique_violation
    if isinstance(error, OperationalError):
        return getattr(error.orig, "sqlstate", None) == "40P01"  # deadlock_detected
    return getattr(error, "sqlstate", None) in ("23505", "40P01") and _is_psycopg(error)


def _is_psycopg(error: Exception) -> bool:
    return type(error).__module__.startswith("psycopg")


# COPY's text format: a backslash and the three separators written as escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_COPY_KINDS = {str, int, datetime, type(None)}


_NULL = "\\N"  # COPY's text format: NULL


def _copy_text(rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` as the body of a ``COPY … FROM STDIN`` in text format: tab-separated values,
    one row a line, ``\\N`` for None, times as ISO text (aware: the columns are
    ``timestamptz``). One string for the whole batch: psycopg's ``write_row`` formats row by
    row in Python, which for a push's 5,000 entries and 4,000 slips a batch cost more than
    the server's work on them. The values are converted column by column (a column of text
    as it is; others through a memo of their distinct values, as a batch repeats its time
    and its points, and looked up in one ``map``), joined with
    a NUL standing for None (PostgreSQL text cannot hold one); when the text then holds no
    backslash or carriage return and exactly the tabs, newlines and NULs of the separators
    and Nones, which is nearly always, nothing needs escaping, and otherwise every value is
    escaped (a NUL in a value then reaches the server, which refuses it as it refuses any)."""
    if not rows:
        return ""
    columns: list[Sequence[str]] = []
    nones = 0
    for column in zip(*rows, strict=True):
        kinds = set(map(type, column))
        if kinds == {str}:
            columns.append(column)
            continue
        if not kinds <= _COPY_KINDS:  # a bool or float would share an int's memo entry
            raise TypeError(f"no COPY text for {', '.join(sorted(k.__name__ for k in kinds))}")
        nones += column.count(None)
        distinct = set(column)
        memo: dict[Any, str]
        if kinds == {int}:  # serials, points: digits, each distinct value converted once
            memo = dict(zip(distinct, map(str, distinct), strict=True))
        else:
            memo = {v: "\x00" if v is None else _copy_value(v) for v in distinct}
        columns.append(list(map(memo.__getitem__, column)))
    text = "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
    if (
        "\\" not in text
        and "\r" not in text
        and text.count("\n") == len(rows)
        and text.count("\t") == len(rows) * (len(columns) - 1)
        and text.count("\x00") == nones
    ):
        return text.replace("\x00", _NULL)
    return "".join(
        "\t".join(_NULL if v is None else _copy_value(v).translate(_COPY_ESCAPES) for v in row)
        + "\n"
        for row in rows
    )


def _entry_copy_text(rows: Sequence[Sequence[Any]]) -> str:
    """``_copy_text(rows)`` for rows of ``ledger_entry`` as ``Ledger.apply`` builds them
    (``_ENTRY_COLUMNS``: key, kind, customer, points, status, reason, payload text, the
    batch's time), exactly that text in under half its time: one formatted line per row
    instead of every value looked up in a memo and the columns turned back into rows (2 ms
    a chunk of 1,000 on a busy host, 0.2 s of a 100,000-entry push, while the entries were
    judged). Taken only when every row has the types ``apply`` gives them (text; None or
    text for the customer and the reason; an integer; one aware time) and no value needs
    escaping: the text's backslashes are exactly those of its ``\\N`` (one per None), and
    its tabs, newlines, carriage returns and NULs those of the separators; otherwise
    ``_copy_text`` writes it."""
    if not rows:
        return ""
    columns = list(zip(*rows, strict=True))
    if len(columns) != len(_ENTRY_COLUMNS):
        return _copy_text(rows)
    at = columns[7][0]
    if (
        any(set(map(type, columns[i])) - _ENTRY_TYPES[i] for i in range(7))
        or at.__class__ is not datetime
        or at.tzinfo is None
        or columns[7].count(at) != len(rows)  # the same object: tuple.count tries identity
    ):
        return _copy_text(rows)
    when = at.isoformat()
    text = "".join(
        [
            f"{k}\t{kind}\t{_NULL if c is None else c}\t{p}\t{s}\t{_NULL if r is None else r}"
            f"\t{t}\t{when}\n"
            for k, kind, c, p, s, r, t, _at in rows
        ]
    )
    if (
        text.count("\\") == columns[2].count(None) + columns[5].count(None)
        and "\r" not in text
        and "\x00" not in text
        and text.count("\n") == len(rows)
        and text.count("\t") == len(rows) * 7
    ):
        return text
    return _copy_text(rows)


# The types ``_entry_copy_text`` writes itself, column by column (the time is checked apart).
_ENTRY_TYPES: tuple[set[type], ...] = (
    {str},
    {str},
    {str, type(None)},
    {int},
    {str},
    {str, type(None)},
    {str},
)


def _copy_value(value: Any) -> str:
    """A value as COPY reads it: text as it is, integers as digits, times as aware ISO
    text."""
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive time for a timestamptz column")
        return value.isoformat()
    if value.__class__ is not int:  # bool too: a flag has no column here
        raise TypeError(f"no COPY text for {type(value).__name__}")
    return str(value)


def _insert(
    connection: Any,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    pg: bool,
    text: str | None = None,
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table`` in the transaction: on
    PostgreSQL one text COPY of the whole batch (``_copy_text``, or ``text`` when it was
    written already); elsewhere as ``kiosk.bulk.insert_rows`` does (SQLite: executemany,
    seen by the strict-lengths hook)."""
    if not rows:
        return
    if not pg:
        insert_rows(connection, table, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    written = _copy_text if text is None else lambda _rows: text
    with _copy_in(connection, table, columns, pg, written) as send:
        send(rows)


def _known(connection: Any, keys: list[str]) -> list[tuple[str, str, str | None]]:
    """Entries already applied: answered as they were the first time (PostgreSQL:
    ``_read_batch_pg``)."""
    rows = []
    for start in range(0, len(keys), 500):
        rows += connection.execute(
            select(entry.c.idempotency_key, entry.c.status, entry.c.reason).where(
                entry.c.idempotency_key.in_(keys[start : start + 500])
            )
        ).all()
    return rows


def _read_slips(
    connection: Any, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """The slips a batch's voids, releases and redemptions name, by (event, serial): a few
    statements of (event, serial) IN pairs, not one per slip (a push after the booths'
    redemptions names tens of thousands).

    Locked (PostgreSQL; SQLite runs one writer at a time), in (event, serial) order, the
    first locks a batch takes and before its accounts': two pushes at once, one voiding a
    slip and the other redeeming it, would otherwise both read it as issued, and the second,
    once the first let go of the customer's account, would redeem a slip already voided and
    its points given back. Locked, the second reads the slip as the first left it. Every
    batch takes its slips' locks before its accounts', each in one order, so two cannot
    wait for each other."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    keys = sorted(keys)
    for start in range(0, len(keys), 500):
        for row in connection.execute(
            select(slip)
            .where(tuple_(slip.c.event, slip.c.serial).in_(keys[start : start + 500]))
            .order_by(slip.c.event, slip.c.serial)
            .with_for_update()
        ):
            found[(row.event, int(row.serial))] = dict(row._mapping)
    return found


def _lock_accounts(connection: Any, customers: list[str]) -> list[str]:
    """The accounts a batch may move. A database other than PostgreSQL (SQLite: the demo's
    ledger) has no row locks: its write transactions run one at a time. PostgreSQL locks them
    in ``_read_batch_pg``."""
    rows = []
    for start in range(0, len(customers), 500):
        rows += connection.scalars(
            select(account.c.customer_no).where(
                account.c.customer_no.in_(customers[start : start + 500])
            )
        ).all()
    return rows


def _read_lots(connection: Any, customers: list[str]) -> dict[str, dict[str, list[Any]]]:
    """The accounts' lots: customer -> ref -> [points left, expires_on] (PostgreSQL:
    ``_read_batch_pg``)."""
    rows = []
    for start in range(0, len(customers), 500):
        rows += connection.execute(
            select(lot.c.customer_no, lot.c.ref, lot.c.points, lot.c.expires_on).where(
                lot.c.customer_no.in_(customers[start : start + 500])
            )
        ).all()
    return _group_lots(rows)


def _group_lots(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, list[Any]]]:
    """Lot rows (customer, ref, points, expires_on) as customer -> ref -> [points left,
    expires_on]."""
    result: dict[str, dict[str, list[Any]]] = {}
    for no, ref, points, expires_on in rows:
        result.setdefault(no, {})[ref] = [int(points), expires_on]
    return result


def _slip_keys(entries: Iterable[Sequence[Any]]) -> list[tuple[str, int]]:
    """The (event, serial) of the slips the voids, releases and redemptions among
    ``entries`` ((key, kind, payload, …) each) name, sorted."""
    return sorted(
        {
            (e[2]["event"], int(e[2]["serial"]))
            for e in entries
            if e[1] in ("slip_voided", "slip_redeemed", "slip_released")
        }
    )


def _read_batch_pg(
    connection: Any, keys: list[str], customers: list[str]
) -> tuple[list[tuple[str, str, str | None]], list[str], list[tuple[Any, ...]]]:
    """On PostgreSQL, in one round trip (a psycopg pipeline): the batch's keys already
    applied (answered as they were the first time; not asked when ``keys`` is empty, as
    ``Ledger.apply`` decides), ``customers``' accounts locked in
    customer order so two pushes cannot deadlock, and the lots of those accounts.

    Three statements, not one: the lots are read by a statement that starts after the locks
    are held, so it sees what a push that held them before committed (one statement would
    read every table as of its start, and could judge against lots another push had just
    spent). Three round trips took a batch 3 ms on a quiet loopback and up to 20 ms while
    the kiosk's thread read its next batch: this thread waits for the interpreter after each
    answer."""
    raw = connection.connection.driver_connection
    readonly.mark_written(connection)  # locks taken behind SQLAlchemy's back (kiosk.readonly)
    with raw.pipeline(), raw.cursor() as known, raw.cursor() as locks, raw.cursor() as lots:
        if keys:
            known.execute(
                "SELECT idempotency_key, status, reason FROM ledger_entry "
                "WHERE idempotency_key = ANY(%s::text[])",
                (_text_array(keys),),
            )
        if customers:
            numbers = _text_array(customers)
            locks.execute(
                "SELECT customer_no FROM ledger_account WHERE customer_no = ANY(%s::text[]) "
                "ORDER BY customer_no FOR UPDATE",
                (numbers,),
            )
            lots.execute(
                "SELECT customer_no, ref, points, expires_on FROM ledger_lot "
                "WHERE customer_no = ANY(%s::text[])",
                (numbers,),
            )
        return (
            known.fetchall() if keys else [],
            [no for (no,) in locks.fetchall()] if customers else [],
            lots.fetchall() if customers else [],
        )


_STREAM_ROWS = 1000  # entries judged between two writes to the batch's COPY


@contextmanager
def _copy_in(
    connection: Any,
    table: Table,
    columns: Sequence[str],
    pg: bool,
    text: Callable[[Sequence[Sequence[Any]]], str] = _copy_text,
) -> Iterator[Callable[[list[tuple[Any, ...]]], None]]:
    """A ``send(rows)`` that writes rows (values in ``columns`` order) into ``table`` within
    the block. On PostgreSQL one text COPY open for the whole block, each ``send`` written to
    it at once: the server inserts and indexes those rows on its own core while this thread
    judges the next ones (a batch's 5,000 entries took the server some 20 ms after the last
    was judged). Nothing else may use the connection inside the block. Elsewhere each
    ``send`` is ``_insert``'s. ``text`` writes the rows' COPY text (``_copy_text``, or a
    faster one that writes the same for the rows it is given)."""
    if not pg:
        yield lambda rows: _insert(connection, table, columns, rows, pg)
        return
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(table.c[name].name) for name in columns)
    raw = connection.connection.driver_connection
    readonly.mark_written(connection)  # behind SQLAlchemy's back: kiosk.readonly must know
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {preparer.format_table(table)} ({names}) FROM STDIN") as copy,
    ):

        def send(rows: list[tuple[Any, ...]]) -> None:
            if rows:
                copy.write(text(rows))

        yield send


def _moved_lots(
    lots: dict[str, dict[str, list[Any]]], start: dict[tuple[str, str], int]
) -> tuple[list[tuple[str, str, int]], list[dict[str, Any]]]:
    """The lots a batch moved: (customer, ref, points left) of those it changed, and the rows
    of those it created (a give-back to a lot a slip from before lots needed)."""
    changed = [
        (no, ref, held[0])
        for no, by_ref in lots.items()
        for ref, held in by_ref.items()
        if (no, ref) in start and start[(no, ref)] != held[0]
    ]
    created = [
        {"customer_no": no, "ref": ref, "points": held[0], "expires_on": held[1]}
        for no, by_ref in lots.items()
        for ref, held in by_ref.items()
        if (no, ref) not in start
    ]
    return changed, created


def _update_lots_and_accounts(
    connection: Any,
    changed: list[tuple[str, str, int]],
    customers: list[str],
    now: datetime,
    pg: bool,
) -> None:
    """The changed lots' points and the as-of time of the accounts whose points moved. On
    PostgreSQL two statements with arrays, pipelined: one round trip for both (a round trip
    costs a push more than the rows, and more still while the kiosk's thread holds the
    interpreter and this one waits to run again after each answer)."""
    if not pg:
        if changed:
            connection.execute(
                update(lot)
                .where(lot.c.customer_no == bindparam("key"), lot.c.ref == bindparam("key_ref"))
                .values(points=bindparam("points")),
                [{"key": no, "key_ref": ref, "points": p} for no, ref, p in changed],
            )
        for start in range(0, len(customers), 500):
            connection.execute(
                update(account)
                .where(account.c.customer_no.in_(customers[start : start + 500]))
                .values(updated_at=now)
            )
        return
    if not changed and not customers:
        return
    raw = connection.connection.driver_connection
    readonly.mark_written(connection)  # written behind SQLAlchemy's back (kiosk.readonly)
    with raw.pipeline(), raw.cursor() as cursor:
        if changed:
            cursor.execute(
                "UPDATE ledger_lot AS l SET points = v.points "
                "FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS v(customer_no, ref, points) "
                "WHERE l.customer_no = v.customer_no AND l.ref = v.ref",
                (
                    _text_array([c[0] for c in changed]),
                    _text_array([c[1] for c in changed]),
                    "{" + ",".join(str(int(c[2])) for c in changed) + "}",
                ),
            )
        if customers:
            cursor.execute(
                "UPDATE ledger_account SET updated_at = %s WHERE customer_no = ANY(%s::text[])",
                (now, _text_array(customers)),
            )


def _upgrade_to_lots(connection: Any) -> None:
    """A ledger created before lots (schema 1): each balance becomes one lot "" without
    expiry, the accounts gain AUM and the slips the lots they took (none recorded: a void
    gives back to the undated lot)."""
    metadata.create_all(connection, tables=[lot])
    columns = {c["name"] for c in inspect(connection).get_columns("ledger_account")}
    if "aum" not in columns:
        connection.exec_driver_sql("ALTER TABLE ledger_account ADD COLUMN aum BIGINT")
    if "lots" not in {c["name"] for c in inspect(connection).get_columns("ledger_slip")}:
        connection.exec_driver_sql(
            "ALTER TABLE ledger_slip ADD COLUMN lots TEXT NOT NULL DEFAULT '[]'"
        )
    if "balance" in columns:
        connection.exec_driver_sql(
            "INSERT INTO ledger_lot (customer_no, ref, points) "
            "SELECT customer_no, '', balance FROM ledger_account"
        )
        connection.exec_driver_sql("ALTER TABLE ledger_account DROP COLUMN balance")
    connection.execute(
        update(meta).where(meta.c.name == "schema").values(value=str(SCHEMA_VERSION))
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
