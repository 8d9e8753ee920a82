"""Exactly once, whatever fails: request ids for the actions staff repeat when unsure.

A station or the command line gives each action (a check-in, a cart of slips, a governance
save, a booth redemption) a request id of its own choosing before it first tries, and keeps it
until it has a definite answer. The service writes an ``ActionRequest`` row under that id in
the action's own transaction, with the action's result (ids and codes only). So:

- when the COMMIT fails in a way that leaves its outcome unknown (the disk filled up, the
  connection dropped while the server was committing), ``UnitOfWork.commit`` asks the
  database whether the row is there before anything is said (``expect`` registers that
  question with the session): there means done, and the service returns its result as if
  nothing had happened; absent means nothing was saved;
- doing it again with the same id (a retry, a second key press, the same command line with
  ``--request-id``) finds the row and returns the first result instead of acting twice.

A table of requests rather than a column on the rows an action creates: one cart creates
several slips, a governance save may change no field at all (and still needs an answer),
check-ins are deleted by an undo; a single keyed row answers "did it happen, and what was the
result" the same way for every action, with one primary-key lookup, and refuses an id reused
for a different action or different input (``fingerprint``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, null, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from kiosk.audit import insert_noted
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import ActionRequest

PROBE = "kiosk_request_probe"
REQUEST = "kiosk_request_id"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{3,63}$")

# A probe answers, with a fresh connection, whether the action's transaction committed:
# True, False, or raises when the database cannot be asked.
Probe = Callable[[Engine], bool]


class RequestMismatch(KioskError):
    """A request id already used for another action or other input."""


def new_request_id() -> str:
    """16 hex digits: short enough to retype from a terminal, random enough never to meet
    another station's (64 bits)."""
    return secrets.token_hex(8)


def checked(request_id: str) -> str:
    request_id = request_id.strip()
    if not _ID.match(request_id):
        raise KioskError(
            _(
                "“{id}” is not a request id: use 4 to 64 letters, digits, “-” or “_”, as "
                "printed by the first try."
            ).format(id=request_id)
        )
    return request_id


def fingerprint(**what: Any) -> str:
    body = json.dumps(what, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def expect(session: Session, request_id: str, probe: Probe) -> None:
    """Tell ``UnitOfWork.commit`` how to find out whether this transaction committed."""
    session.info[PROBE] = probe
    session.info[REQUEST] = request_id


def expected(session: Session) -> tuple[str, Probe] | None:
    """The request id and probe of this transaction, once (the next one starts clean)."""
    probe = session.info.pop(PROBE, None)
    request_id = session.info.pop(REQUEST, "")
    return (request_id, probe) if probe is not None else None


def forget(session: Session) -> None:
    session.info.pop(PROBE, None)
    session.info.pop(REQUEST, None)


def replay(
    session: Session, request_id: str | None, action: str, print_: str
) -> dict[str, Any] | None:
    """The first result of ``request_id``, or None when it has not been done yet."""
    if not request_id:
        return None
    return replay_of(session.get(ActionRequest, request_id), action, print_)


def with_request(query: Select[Any], request_id: Any, left: Any) -> Select[Any]:
    """``query`` with the request's row as its last column (None when there is none, or no
    request id), outer-joined to ``left``: an action that reads anyway learns whether it was
    done in the same round trip (issue #23). Judge it with ``replay_of``. ``request_id`` is
    the id (a string, or None / "" for none) or a bound parameter that will carry it, for a
    statement built once and sent many times (``kiosk.services.slips``).

    Only in a statement that runs after whatever lock makes a second try wait for the first
    (a statement sees what was committed when it began)."""
    if request_id is None or (isinstance(request_id, str) and not request_id):
        return query.add_columns(null())
    return query.add_columns(ActionRequest).join_from(
        left, ActionRequest, ActionRequest.id == request_id, isouter=True
    )


def replay_of(row: ActionRequest | None, action: str, print_: str) -> dict[str, Any] | None:
    """``replay`` from the request's row as a query read it (``with_request``)."""
    if row is None:
        return None
    if row.action != action or row.fingerprint != print_:
        raise RequestMismatch(
            _(
                "The request {id} was already used at {time} for something else; nothing was "
                "done now. Give a new request id (or none) for this one."
            ).format(id=row.id, time=row.at.strftime("%H:%M:%S"))
        )
    result: dict[str, Any] = json.loads(row.result)
    return result


def _row(
    request_id: str,
    action: str,
    print_: str,
    result: dict[str, Any],
    staff_id: int | None,
    at: datetime,
) -> dict[str, Any]:
    return {
        "id": request_id,
        "action": action,
        "fingerprint": print_,
        "result": json.dumps(result, sort_keys=True, separators=(",", ":")),
        "staff_id": staff_id,
        "at": at,
    }


def record(
    session: Session,
    request_id: str | None,
    action: str,
    print_: str,
    result: dict[str, Any],
    *,
    staff_id: int | None,
    at: datetime,
) -> None:
    """Write the request row in the action's transaction and register its probe."""
    if not request_id:
        return
    session.add(ActionRequest(**_row(request_id, action, print_, result, staff_id, at)))
    expect(session, request_id, lambda engine: committed(engine, request_id))


def record_now(
    session: Session,
    request_id: str | None,
    action: str,
    print_: str,
    result: dict[str, Any],
    *,
    staff_id: int | None,
    at: datetime,
) -> None:
    """``record`` with a Core INSERT sent now, noted for the audit as the ORM's would be
    (``audit.insert_noted``): for hot paths (check-in) that spare the ORM's flush."""
    if not request_id:
        return
    insert_noted(session, ActionRequest, _row(request_id, action, print_, result, staff_id, at))
    expect(session, request_id, lambda engine: committed(engine, request_id))


def committed(engine: Engine, request_id: str) -> bool:
    """Whether the request's row is in the database, asked on a fresh connection.

    On PostgreSQL the transaction that wrote it may still be committing on the server (the
    reply was lost, not the COMMIT): inserting the same key waits for that transaction to end,
    then conflicts (it committed) or goes in (it did not; rolled back here), so the answer is
    never "not saved" for a commit that lands a moment later. ``lock_timeout`` bounds the
    wait when the server has not yet noticed the dropped connection; then this raises and the
    outcome stays unknown.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            inserted = connection.execute(
                pg_insert(ActionRequest)
                .values(id=request_id, action="probe", fingerprint="", result="{}", at=_now())
                .on_conflict_do_nothing()
                .returning(ActionRequest.id)
            ).first()
            connection.rollback()
            return inserted is None
        found = connection.scalar(select(ActionRequest.id).where(ActionRequest.id == request_id))
        connection.rollback()
        return found is not None


def _now() -> datetime:
    from kiosk.clock import Clock

    return Clock().now()
