"""Append-only, hash-chained audit records, with digests of what each transaction changed.

Each record's hash covers its content (when, who, station, action, entity, details, approving
supervisor, before / after digests) and the previous record's hash, so editing, deleting or
reordering any record breaks the chain and ``check`` says where. Details must never hold
personal data (names, ID numbers, phones): ids and codes only.

**Digests.** While a transaction runs, a flush hook notes every ORM row it inserts, updates or
deletes (audit records and the change counter aside) with its column values before and after.
At commit the transaction's audit records get ``before_digest`` / ``after_digest``: SHA-256 of
the canonical JSON of the sorted ``(table, primary key, values)`` list as it was before and as
it is after. The digests prove *what* changed (given a backup, or the row as it stands, anyone
can recompute them) without the audit table storing a single name, ID number or phone.

**Money rows named.** The first record of each transaction also carries ``rows``: the ids of
the points-journal, slip, redemption and outbox rows it wrote or deleted (``ROWS``), inside the
hash. ``coverage`` then names every such row no record names (written around the kiosk, e.g.
with plain SQL) and every named one that is gone (issue #26); signed checkpoints
(``kiosk.checkpoint``) keep the records themselves from being rewritten unseen.

**Strict mode.** With ``KIOSK_AUDIT_STRICT=1`` (the tests set it) a transaction that changed
rows but appended no audit record fails at commit, naming the tables: that is how "every state
change is audited" is kept true as code changes. Production leaves it off and silent. Bulk
setup (demo generation, test fixtures, data loads) runs inside ``unaudited()``.

Writes sent as SQL statements (``session.execute(update(...))``, ``text()``, Core on a bare
connection) carry no per-row history, so they are outside the digests; ORM-enabled bulk
statements still count as changes for strict mode, and bulk paths (demo, imports) append one
summary record. A hot path that inserts its rows with Core INSERTs to spare the ORM's flush
(check-in, call next, issuing slips) hands them to ``note_inserted`` (``insert_noted`` does
both), and then they are in the digests and ``rows`` exactly as if the ORM had inserted them.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    Update,
    bindparam,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value

from kiosk.i18n import _
from kiosk.models import (
    AuditRecord,
    Base,
    ChangeCounter,
    JournalEntry,
    OutboxEntry,
    Redemption,
    Slip,
    StationStatus,
)

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x61756469  # "audi"
_PENDING = "kiosk_audit_pending"
_ROWS = "kiosk_audit_rows"  # (table, pk json) -> [before values | None, after values | None]
_BULK = "kiosk_audit_bulk"  # tables written by SQL statements (no row history)
_NAMED = "kiosk_audit_named"  # money rows an appender named itself (SQL-statement writers)
# Station heartbeats (free disk space) are machine facts, not changes of the event.
QUIET = frozenset({StationStatus.__tablename__})
_SKIPPED = frozenset({AuditRecord.__tablename__, ChangeCounter.__tablename__}) | QUIET
ENV_STRICT = "KIOSK_AUDIT_STRICT"
# The money tables: every row of them must be named by an audit record's ``rows`` (by id), so
# a row written around the services (plain SQL) or removed is found (``coverage``).
ROWS: dict[str, type[Base]] = {
    model.__tablename__: model for model in (JournalEntry, Slip, Redemption, OutboxEntry)
}
_GONE = "-"  # suffix of a table's key in ``rows`` for the ids a transaction deleted
_exempt: ContextVar[bool] = ContextVar("kiosk_audit_exempt", default=False)


class UnauditedChange(RuntimeError):
    """A transaction changed rows without an audit record (strict mode): a programming error."""


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plain(value: Any) -> Any:
    """A column value as deterministic JSON: ISO times, hex bytes, enum values."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _body(record: AuditRecord) -> str:
    """What a record's hash covers besides its predecessor's hash: its canonical JSON."""
    return canonical_json(
        {
            "at": record.at.isoformat(),
            "staff_id": record.staff_id,
            "station": record.station,
            "action": record.action,
            "entity": record.entity,
            "entity_id": record.entity_id,
            "details": record.details,
            # Left out when empty, so records written before these fields existed still verify.
            **({"approved_by": record.approved_by} if record.approved_by is not None else {}),
            **({"before": record.before_digest} if record.before_digest else {}),
            **({"after": record.after_digest} if record.after_digest else {}),
            **({"rows": record.rows} if record.rows else {}),
        }
    )


def _chain(prev_hash: str, body: str) -> str:
    """The hash of a record with this body after the record whose hash is ``prev_hash`` (the
    PostgreSQL function ``kiosk_audit_append`` computes the same, migration 0018)."""
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _digest(prev_hash: str, record: AuditRecord) -> str:
    return _chain(prev_hash, _body(record))


def append(
    session: Session,
    *,
    at: datetime,
    action: str,
    staff_id: int | None = None,
    station: str = "",
    entity: str = "",
    entity_id: str | int = "",
    details: dict[str, Any] | None = None,
    approved_by: int | None = None,
    before_digest: str = "",
    after_digest: str = "",
    rows: dict[str, list[int]] | None = None,
) -> None:
    """Add an audit record to the session's transaction; it is chained when it commits.

    Chaining needs the newest record, so appenders must take turns. Taking turns at commit
    rather than here keeps that turn short and makes the audit lock the last lock every
    transaction takes (after all its row locks), so it can never close a deadlock cycle: a
    transaction that appended and then locked a slip row would otherwise wait for a void
    that itself waits for the audit lock.

    ``before_digest`` / ``after_digest`` are normally left empty: the commit fills them with
    the transaction's row digests. ``rows`` likewise: the commit names the money rows the ORM
    wrote; a writer that inserts money rows with SQL statements names them here
    (``{table: [id, ...]}``).
    """
    record = AuditRecord(
        at=at,
        staff_id=staff_id,
        station=station,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        details=canonical_json(details or {}),
        approved_by=approved_by,
        before_digest=before_digest,
        after_digest=after_digest,
        rows="",
    )
    if rows:
        session.info.setdefault(_NAMED, {}).update(
            {table: list(ids) for table, ids in rows.items() if ids}
        )
    session.info.setdefault(_PENDING, []).append(record)


# --- what the transaction changed --------------------------------------------------------


def _columns(mapper: Any) -> list[tuple[str, str]]:
    """(attribute, column name) of each of ``mapper``'s columns, found once per mapper."""
    found: list[tuple[str, str]] | None = mapper.__dict__.get("_kiosk_audit_columns")
    if found is None:
        found = [(attr.key, attr.columns[0].name) for attr in mapper.column_attrs]
        mapper._kiosk_audit_columns = found
    return found


def _values_new(state: Any) -> dict[str, Any]:
    """``_values(state, before=False)`` of a row this flush inserted, without asking each
    attribute for its history: a pending row has no unchanged values, only what was set
    (its history's ``added``, which is what ``state.dict`` holds) and what the flush filled
    in (its key, defaults), also in ``state.dict``. Issuing a slip inserts half a dozen rows,
    and their history took a tenth of its time in the service (issue #23 item 5)."""
    loaded = state.dict
    return {name: plain(loaded[key]) for key, name in _columns(state.mapper) if key in loaded}


def _values(state: Any, *, before: bool) -> dict[str, Any]:
    """The loaded column values of a row as they were before this flush, or are after it."""
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history  # never loads: no SQL inside a flush
        if before:
            old = list(history.deleted) or list(history.unchanged)
        else:
            old = list(history.added) or list(history.unchanged)
        if old:
            values[attr.columns[0].name] = plain(old[0])
        elif not before and attr.key in state.dict:
            values[attr.columns[0].name] = plain(state.dict[attr.key])
    return values


def _note_flush(session: Session, _context: UOWTransaction) -> None:
    """After each flush, note the rows it wrote with their values before and after."""
    rows: dict[tuple[str, str], list[dict[str, Any] | None]] = session.info.setdefault(_ROWS, {})
    changes = [(obj, "new") for obj in session.new]
    changes += [(obj, "dirty") for obj in session.dirty if session.is_modified(obj)]
    changes += [(obj, "deleted") for obj in session.deleted]
    for obj, kind in changes:
        state = inspect(obj)
        table = state.mapper.local_table.name
        if table in _SKIPPED or not isinstance(obj, Base):  # a booth database has no audit
            continue
        pk = canonical_json([plain(v) for v in state.mapper.primary_key_from_instance(obj)])
        key = (table, pk)
        before = None if kind == "new" else _values(state, before=True)
        if kind == "new":
            after = _values_new(state)
        else:
            after = None if kind == "deleted" else _values(state, before=False)
        if key not in rows:
            rows[key] = [before, after]
            continue
        first_before, first_after = rows[key]
        # The earliest "before" wins, the latest "after" wins, column by column.
        if first_before is not None and before is not None:
            rows[key][0] = {**before, **first_before}
        if after is None:
            rows[key][1] = None
        else:
            rows[key][1] = {**(first_after or {}), **after}


def insert_values(model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """The row a Core INSERT of ``model`` writes: ``values`` (by column name) plus the
    scalar Python default of each column they leave out, as an ORM flush would fill it in.

    Pass the result both to the INSERT and (with the key the database gave) to
    ``note_inserted``, so the row written and the row the digests describe are one. A column
    left out whose default is computed (a callable) is refused: the ORM would have evaluated
    it into the digest, and only the writer can know its value.
    """
    row = dict(values)
    for column in model.__table__.columns:
        if column.name in row or column.default is None:
            continue
        default = column.default
        if not default.is_scalar:  # type: ignore[attr-defined]
            raise ValueError(f"{model.__tablename__}.{column.name}: pass its value")
        row[column.name] = default.arg  # type: ignore[attr-defined]
    return row


@functools.cache
def _shape(model: type[Base]) -> tuple[list[str], frozenset[str], list[str]]:
    """``model``'s column names (in the flush hook's order), as a set, and its key's."""
    mapper = inspect(model)
    names = [name for _key, name in _columns(mapper)]
    return names, frozenset(names), [column.name for column in mapper.primary_key]


def note_inserted(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Note rows inserted with Core statements in this transaction, exactly as the flush hook
    notes rows the ORM inserts (issue #23: the ORM's unit of work was ~40% of a check-in's CPU).

    Each row is a dict by column name holding every value the INSERT wrote, its primary key
    included (``insert_values`` plus the key the database returned). The rows then count in
    the transaction's digests, in ``rows`` (money tables) and for strict mode, and the commit
    bumps the change counter, with no difference an audit record could show: the flush hook
    notes a new row's set and defaulted attributes, which is what such a dict holds. Columns
    the INSERT left out (NULL, or a server default) are absent from both.
    """
    from kiosk.changes import wrote  # kiosk.changes imports this module

    table = model.__tablename__
    if table in _SKIPPED:
        return
    names, known, keys = _shape(model)
    noted: dict[tuple[str, str], list[dict[str, Any] | None]] = session.info.setdefault(_ROWS, {})
    for row in rows:
        unknown = row.keys() - known
        if unknown:
            raise ValueError(f"{table} has no column {', '.join(sorted(unknown))}")
        after = {name: plain(row[name]) for name in names if name in row}
        key = (table, canonical_json([plain(row[name]) for name in keys]))
        first = noted.get(key)
        noted[key] = [None, after] if first is None else [first[0], {**(first[1] or {}), **after}]
    wrote(session)


@functools.cache
def _insert(model: type[Base]) -> Insert:
    """A Core INSERT of one ``model`` row returning its key, built once per model."""
    table = model.__table__
    return insert(table).returning(*table.primary_key.columns)


@functools.cache
def _insert_many(model: type[Base]) -> Insert:
    """``_insert`` for many rows in one statement, the keys returned in the rows' order."""
    table = model.__table__
    return insert(table).returning(*table.primary_key.columns, sort_by_parameter_order=True)


def insert_many_noted(
    session: Session, model: type[Base], values: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``insert_noted`` for several rows of one table, in one statement (as the ORM's flush
    sends them); the rows as written, keys included, in the order given."""
    if not values:
        return []
    rows = [insert_values(model, row) for row in values]
    keys = session.connection().execute(_insert_many(model), rows).all()
    for row, key in zip(rows, keys, strict=True):
        row.update(key._mapping)
    note_inserted(session, model, rows)
    return rows


def insert_noted(
    session: Session, model: type[Base], values: dict[str, Any], *, also: Sequence[Any] = ()
) -> dict[str, Any]:
    """Insert one ``model`` row with a Core INSERT in the session's transaction and note it
    (``note_inserted``); the row as written, its key included.

    For hot paths only (check-in, call next, issuing slips): the row never enters the
    session, so the caller uses the returned values, not an ORM object, and nothing else in
    the transaction may expect to find it in the identity map.

    ``also``: columns evaluated in the INSERT's RETURNING, once the row is in, and not kept:
    a ``kiosk.locks.lock_columns`` lock taken in the same round trip (issue #23).
    """
    statement = _insert(model)
    if also:
        statement = statement.returning(*also)
    return insert_computed_noted(session, model, values, statement, computed=())[0]


def insert_computed_noted(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    statement: Insert,
    *,
    computed: Sequence[str],
    params: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """``insert_noted`` through the caller's own INSERT of one ``model`` row (built once),
    for a row some of whose columns the statement computes itself: a ticket's number is the
    queue's highest + 1, read inside the INSERT instead of in a statement of its own (issue
    #23: one round trip less).

    The statement's RETURNING gives the key columns first (in ``_insert``'s order), then the
    ``computed`` columns (by name, in that order), then whatever else the caller wants back.
    ``params``: values for the statement's own bound parameters, beside the row's. The row is
    noted with the computed values as written; returned with the rest of the RETURNING.
    """
    row = insert_values(model, values)
    returned = session.connection().execute(statement, {**row, **(params or {})}).one()
    keys = _key_names(model)
    row.update(zip(keys, returned, strict=False))
    row.update(zip(computed, returned[len(keys) :], strict=False))
    note_inserted(session, model, [row])
    return row, tuple(returned[len(keys) + len(computed) :])


def update_noted(session: Session, obj: Base, values: dict[str, Any]) -> None:
    """Set ``values`` (by attribute name) on ``obj``, a row this transaction loaded, with a
    Core UPDATE sent now, and note the row as the ORM's flush would have noted that change
    (``_note_flush``): before, every loaded column as read; after, the same with ``values``.

    For hot paths (finishing a ticket, routing a customer on): the flush of one changed row
    was a third of a finish's CPU on the station (issue #23). The object takes the values as
    its committed state, so no flush sends them again. ``obj`` must hold no unflushed change
    of its own: its loaded values are the row's "before"."""
    from kiosk.changes import wrote  # kiosk.changes imports this module

    state = inspect(obj)
    if state.modified or not state.persistent:
        raise ValueError(f"{obj!r}: flush it first, or set its values through the ORM")
    mapper = state.mapper
    table = mapper.local_table.name
    names = dict(_columns(mapper))
    unknown = values.keys() - names.keys()
    if unknown:
        raise ValueError(f"{table} has no attribute {', '.join(sorted(unknown))}")
    loaded = state.dict
    before = {name: plain(loaded[key]) for key, name in _columns(mapper) if key in loaded}
    (key_value,) = mapper.primary_key_from_instance(obj)
    session.connection().execute(
        _update(type(obj), tuple(sorted(values))),
        {**{names[k]: v for k, v in values.items()}, "_key": key_value},
    )
    for attribute, value in values.items():
        set_committed_value(obj, attribute, value)
    if table in _SKIPPED:
        return
    after = {**before, **{names[k]: plain(v) for k, v in values.items()}}
    noted: dict[tuple[str, str], list[dict[str, Any] | None]] = session.info.setdefault(_ROWS, {})
    row_key = (table, canonical_json([plain(key_value)]))
    first = noted.get(row_key)
    if first is None:
        noted[row_key] = [before, after]
    else:  # the earliest "before" wins, the latest "after" wins, column by column
        if first[0] is not None:
            first[0] = {**before, **first[0]}
        first[1] = {**(first[1] or {}), **after}
    wrote(session)


@functools.cache
def _update(model: type[Base], attributes: tuple[str, ...]) -> Update:
    """A Core UPDATE of one ``model`` row by its key (``_key``) setting ``attributes`` (each
    a bound parameter named after its column), built once per model and set of attributes."""
    mapper = inspect(model)
    (key,) = mapper.local_table.primary_key.columns
    names = dict(_columns(mapper))
    table = mapper.local_table
    return (
        update(table)
        .where(key == bindparam("_key"))
        .values({table.c[names[a]]: bindparam(names[a]) for a in attributes})
    )


@functools.cache
def _key_names(model: type[Base]) -> tuple[str, ...]:
    """The names of ``model``'s key columns, in the order ``_insert`` returns them."""
    return tuple(column.name for column in model.__table__.primary_key.columns)


def _note_statement(state: ORMExecuteState) -> None:
    """SQL statements carry no row history; note their tables so strict mode still sees them."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", "?")
        if name not in _SKIPPED and name in Base.metadata.tables:
            state.session.info.setdefault(_BULK, set()).add(name)


def rows_digest(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """SHA-256 of the canonical JSON of sorted (table, pk, values); "" when nothing."""
    if not rows:
        return ""
    ordered = sorted(rows, key=lambda row: (row[0], row[1]))
    body = canonical_json([[table, json.loads(pk), values] for table, pk, values in ordered])
    return hashlib.sha256(body.encode()).hexdigest()


def transaction_digests(session: Session) -> tuple[str, str]:
    """(before, after) digests of the rows this transaction changed so far (after a flush)."""
    rows = session.info.get(_ROWS, {})
    changed = {key: (b, a) for key, (b, a) in rows.items() if b != a}  # not a mere touch
    before = [(t, pk, b) for (t, pk), (b, _a) in changed.items() if b is not None]
    after = [(t, pk, a) for (t, pk), (_b, a) in changed.items() if a is not None]
    return rows_digest(before), rows_digest(after)


def _runs(ids: set[int]) -> list[int | list[int]]:
    """Sorted ids with each run of three or more consecutive ones as ``[first, last]``."""
    ordered = sorted(ids)
    out: list[int | list[int]] = []
    start = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] != ordered[i - 1] + 1:
            run = ordered[start:i]
            out.extend([[run[0], run[-1]]] if len(run) >= 3 else run)
            start = i
    return out


def _expand(items: list[Any]) -> Iterator[int]:
    for item in items:
        if isinstance(item, list):
            yield from range(int(item[0]), int(item[1]) + 1)
        else:
            yield int(item)


def transaction_rows(session: Session) -> str:
    """The money rows this transaction wrote (or deleted), as ``AuditRecord.rows``: canonical
    JSON ``{table: [id | [first, last], ...], "table-": [...]}``; "" when none."""
    written: dict[str, set[int]] = {}
    for (table, pk), (before, after) in session.info.get(_ROWS, {}).items():
        if table not in ROWS or before == after:
            continue
        (row_id,) = json.loads(pk)
        written.setdefault(table if after is not None else table + _GONE, set()).add(int(row_id))
    for table, ids in session.info.get(_NAMED, {}).items():
        written.setdefault(table, set()).update(int(i) for i in ids)
    return canonical_json({t: _runs(ids) for t, ids in written.items()}) if written else ""


def _changed_tables(session: Session) -> set[str]:
    rows = session.info.get(_ROWS, {})
    tables = {table for (table, _pk), (b, a) in rows.items() if b != a}
    return tables | session.info.get(_BULK, set())


def strict() -> bool:
    return os.environ.get(ENV_STRICT) == "1"


@contextlib.contextmanager
def unaudited() -> Iterator[None]:
    """Commits inside this block need no audit record even in strict mode: bulk setup only
    (demo generation, test fixtures, data loads that append their own summary record)."""
    token = _exempt.set(True)
    try:
        yield
    finally:
        _exempt.reset(token)


def write_pending(session: Session, *, bump: bool = False) -> int | None:
    """Chain and insert the records appended in this transaction (called before commit).

    ``bump``: the caller bumps the change counter next (``kiosk.changes``, the last thing
    before COMMIT); on PostgreSQL, with records to write, the append bumps it in the same
    round trip (``kiosk_audit_append_bump``, migration 0022) and the counter's new value is
    returned. None when the caller must still bump it itself.

    Every record of one transaction carries the digests of the whole transaction rather than
    a share split per entity: a check-in or a slip also writes journal, outbox and queue rows
    that belong to no record's entity, and splitting would leave them covered by none. The
    records of one transaction sit next to each other in the chain, so the shared digests
    still say exactly which change they vouch for.
    """
    records: list[AuditRecord] = session.info.get(_PENDING, [])
    session.flush()
    if not records:
        if strict() and not _exempt.get():
            tables = sorted(_changed_tables(session))
            if tables:
                _clear(session)
                raise UnauditedChange(
                    f"this transaction changed {', '.join(tables)} without an audit record "
                    "(kiosk.audit.append, or audit.unaudited() for bulk setup)"
                )
        _clear(session)
        return None
    session.info.pop(_PENDING, None)
    before, after = transaction_digests(session)
    for record in records:
        record.before_digest = record.before_digest or before
        record.after_digest = record.after_digest or after
    # The first record of the transaction names its money rows (once is enough: the records
    # of one transaction sit together in the chain and share its digests).
    records[0].rows = transaction_rows(session)
    if session.get_bind().dialect.name == "postgresql":
        reached = _append_on_server(session, records, bump=bump)
        _clear(session)
        return reached
    # SQLite: BEGIN IMMEDIATE already serialises appenders; read the head and chain here.
    prev = session.scalar(_head())
    for i, record in enumerate(records):
        record.before_digest = record.before_digest or before
        record.after_digest = record.after_digest or after
        record.prev_hash = prev or GENESIS
        record.hash = prev = _digest(record.prev_hash, record)
        session.add(record)
        # One at a time: the ids follow the chain. The last one goes with the flush that
        # follows this hook (the change counter's, or the commit's own): a flush of its own
        # was a tenth of a slip's time in the service (issue #23 item 5).
        if i < len(records) - 1:
            session.flush()
    _clear(session)
    return None


@functools.cache
def _head() -> Select[tuple[str]]:
    """The newest record's hash (SQLite's chaining reads it), built once: building it again
    and deriving its cache key cost more than running it."""
    return select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)


# ``_append_on_server``'s statements, built once (their cache keys with them): the append
# alone, and the append with the change counter's bump after it.
_APPEND = text("SELECT chained_prev, chained_hash FROM kiosk_audit_append(CAST(:records AS jsonb))")
_APPEND_BUMP = text("SELECT * FROM kiosk_audit_append_bump(CAST(:records AS jsonb))")


def _append_on_server(session: Session, records: list[AuditRecord], *, bump: bool) -> int | None:
    """Chain and insert ``records`` in one round trip on PostgreSQL (issue #23).

    ``kiosk_audit_append`` (migration 0019) takes the chain's advisory lock, reads the head and
    inserts the records chained after it, oldest first: three round trips before, each ~2 ms on
    the venue LAN, and the lock held across them. It is the last statement before COMMIT but for
    the change counter's bump, which ``kiosk_audit_append_bump`` (migration 0022) makes in the
    same statement, so the lock is held only for what the commit needs. The hashes it returns
    are checked against Python's own, so a server that hashed differently (another text
    encoding) fails the transaction instead of writing a chain ``check`` would call edited. With
    ``bump`` the change counter is bumped that way and its new value returned
    (``write_pending``).
    """
    from kiosk.changes import wrote  # kiosk.changes imports this module

    rows = [
        {
            "at": record.at.isoformat(),
            "staff_id": record.staff_id,
            "station": record.station,
            "action": record.action,
            "entity": record.entity,
            "entity_id": record.entity_id,
            "details": record.details,
            "approved_by": record.approved_by,
            "before_digest": record.before_digest,
            "after_digest": record.after_digest,
            "rows": record.rows,
            "body": _body(record),
        }
        for record in records
    ]
    # Straight on the transaction's connection: the ORM's execute path (its events, its
    # result handling) had nothing to add to a function call and cost a tenth of a finish's
    # CPU on the station (issue #23); ``wrote`` below says what the ORM hook would have.
    chained = (
        session.connection()
        .execute(
            _APPEND_BUMP if bump else _APPEND, {"records": json.dumps(rows, ensure_ascii=False)}
        )
        .all()
    )
    # Each record's hash recomputed here from the predecessor the server chained it to, so a
    # server that hashed differently never writes a chain ``check`` would call edited.
    if len(chained) != len(records) or any(
        _chain(found[0], row["body"]) != found[1] for found, row in zip(chained, rows, strict=True)
    ):
        raise RuntimeError("the event database chained the audit records differently")
    # A transaction whose only write is its audit record (a sign-in) still moves the change
    # counter, as the ORM insert of the record did.
    wrote(session)
    return int(chained[0][2]) if bump else None


def has_pending(session: Session) -> bool:
    """Records appended in this transaction and not yet written (they go at its commit)."""
    return bool(session.info.get(_PENDING))


def _clear(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_ROWS, None)
    session.info.pop(_BULK, None)
    session.info.pop(_NAMED, None)


# Every session writes what it appended when it commits and forgets it when it rolls back.
event.listen(Session, "before_commit", write_pending)
event.listen(Session, "after_flush", _note_flush)
event.listen(Session, "do_orm_execute", _note_statement)
event.listen(Session, "after_soft_rollback", _clear)
event.listen(Session, "after_commit", _clear)


# --- checking the chain ------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One place the chain is broken: ``kind`` is edited, missing or reordered."""

    record_id: int
    kind: str
    reason: str  # one translated sentence that names the place


@dataclass(frozen=True)
class ChainReport:
    count: int
    head: str  # hash of the newest record (GENESIS when empty)
    problems: list[ChainProblem]

    @property
    def intact(self) -> bool:
        return not self.problems


def _where(record: AuditRecord) -> str:
    from kiosk.labels import audit_action_label  # labels need the models: import late

    return _("record {id} ({action}, {at:%Y-%m-%d %H:%M:%S} UTC)").format(
        id=record.id, action=audit_action_label(record.action), at=record.at
    )


def check(session: Session) -> ChainReport:
    """Every place the chain is broken, with the record count and the head hash.

    - An **edited** record no longer hashes to its stored hash; one whose hash was recomputed
      too is caught by the next record, which still points to the original hash.
    - A **deleted** record leaves the next one pointing to a hash no record has.
    - A **reordered** record points to the hash of a record other than the one before it.

    What the chain alone cannot show: removing the *newest* records (tail truncation) leaves a
    shorter chain that is still intact. That is why the count and head hash are reported:
    compare them with ones noted earlier (e.g. at the end of each day) or with a backup.
    """
    records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
    position = {record.hash: index for index, record in enumerate(records)}
    problems: list[ChainProblem] = []
    for index, record in enumerate(records):
        previous = records[index - 1] if index else None
        expected = previous.hash if previous is not None else GENESIS
        if _digest(record.prev_hash, record) != record.hash:
            problems.append(
                ChainProblem(
                    record.id,
                    "edited",
                    _("{where} was changed after it was written.").format(where=_where(record)),
                )
            )
        if record.prev_hash == expected:
            continue
        other = position.get(record.prev_hash)
        if other is not None or (record.prev_hash == GENESIS and index):
            if other is None:
                reason = _("{where} is out of order: it was written first.")
            else:
                reason = _("{where} is out of order: it was written right after record {id}.")
            problems.append(
                ChainProblem(
                    record.id,
                    "reordered",
                    reason.format(
                        where=_where(record), id=records[other].id if other is not None else 0
                    ),
                )
            )
        elif previous is None:
            problems.append(
                ChainProblem(
                    record.id,
                    "missing",
                    _("A record before record {id} is missing.").format(id=record.id),
                )
            )
        elif record.id == previous.id + 1:
            problems.append(
                ChainProblem(
                    previous.id,
                    "edited",
                    _(
                        "{where} was changed after it was written: record {next} points to "
                        "its original hash."
                    ).format(where=_where(previous), next=record.id),
                )
            )
        else:
            problems.append(
                ChainProblem(
                    record.id,
                    "missing",
                    _("A record between record {a} and record {b} is missing.").format(
                        a=previous.id, b=record.id
                    ),
                )
            )
    head = records[-1].hash if records else GENESIS
    return ChainReport(len(records), head, problems)


def verify(session: Session) -> ChainProblem | None:
    """The first place the chain is broken, or None when it is intact."""
    problems = check(session).problems
    return problems[0] if problems else None


# --- every money row named by a record ---------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """A money row the audit chain does not account for: ``kind`` is ``unaudited`` (the row
    exists, no record names it: written around the services) or ``missing`` (a record names
    it, the row is gone: deleted around them)."""

    table: str
    row_id: int
    kind: str
    record_id: int  # the record that named a missing row; 0 for an unaudited one
    reason: str  # one translated sentence naming the row


@dataclass(frozen=True)
class CoverageReport:
    rows: int  # money rows in the database
    problems: list[RowProblem]

    @property
    def complete(self) -> bool:
        return not self.problems


def table_words(table: str) -> str:
    """What a money table is called in a sentence."""
    words = {
        JournalEntry.__tablename__: _("Points-journal entry"),
        Slip.__tablename__: _("Slip record"),
        Redemption.__tablename__: _("Redemption"),
        OutboxEntry.__tablename__: _("Ledger outbox entry"),
    }
    return words.get(table, table)


def coverage(session: Session) -> CoverageReport:
    """Every points-journal, slip, redemption and outbox row that no audit record names, and
    every one a record names that is gone.

    A record's ``rows`` is inside its hash, so the names cannot be changed without the chain
    (and a checkpoint) showing it. Rows written before records named rows (an event upgraded
    from an older kiosk) are reported as unaudited too: nothing vouches for them.
    """
    named: dict[str, dict[int, int]] = {table: {} for table in ROWS}  # id -> record naming it
    gone: dict[str, set[int]] = {table: set() for table in ROWS}
    for record_id, rows in session.execute(
        select(AuditRecord.id, AuditRecord.rows).where(AuditRecord.rows != "")
    ).all():
        try:
            listed = json.loads(rows)
        except ValueError:
            continue  # an edited record: the chain check names it
        for key, items in listed.items() if isinstance(listed, dict) else ():
            table = key.removesuffix(_GONE)
            if table not in ROWS or not isinstance(items, list):
                continue
            for row_id in _expand(items):
                if key.endswith(_GONE):
                    gone[table].add(row_id)
                    named[table].pop(row_id, None)
                else:
                    named[table][row_id] = record_id
                    gone[table].discard(row_id)
    problems: list[RowProblem] = []
    total = 0
    for table, model in ROWS.items():
        present = set(session.scalars(select(model.id)))  # type: ignore[attr-defined]
        total += len(present)
        what = table_words(table)
        for row_id in sorted(present - set(named[table])):
            problems.append(
                RowProblem(
                    table,
                    row_id,
                    "unaudited",
                    0,
                    _(
                        "{what} {id} is not accounted for by any audit record: it was written "
                        "around the kiosk (plain SQL), or the record that named it was removed."
                    ).format(what=what, id=row_id),
                )
            )
        for row_id in sorted(set(named[table]) - present):
            problems.append(
                RowProblem(
                    table,
                    row_id,
                    "missing",
                    named[table][row_id],
                    _(
                        "{what} {id}, written with audit record {record}, is missing: it was "
                        "deleted around the kiosk."
                    ).format(what=what, id=row_id, record=named[table][row_id]),
                )
            )
    return CoverageReport(total, problems)
