"""The event database's PostgreSQL roles on the venue LAN (issue #29): least privilege.

``kiosk db setup`` makes, for an event database NAME, two login roles with generated passwords:

- ``NAME_owner`` owns the database, its schema and every table; migrations run as it. Used
  only on the coordinator's laptop: ``kiosk init``, ``event copy``, ``event close``, backups,
  and everything after the event (purge, encryption of personal data).
- ``NAME_station`` is what the staff stations connect as: CONNECT, USAGE on the schema,
  SELECT/INSERT/UPDATE/DELETE on the ordinary tables, USAGE/SELECT on the sequences; no
  CREATE on the schema or the database, no TRUNCATE, no DDL (it owns nothing).

The booths get no database role at all: they are served through the HTTPS gateway.

The money and evidence tables are insert-only for the station (``INSERT_ONLY``): UPDATE and
DELETE are not granted, and a trigger (migration 0017, PostgreSQL only) refuses UPDATE, DELETE
and TRUNCATE to every role that is not a member of the table's owner, so a grant given by
mistake later does not open them. Every place the application changes those tables, and the
decision for it:

- ``audit_record``, ``journal_lot``: never updated nor deleted by the app. Insert-only.
- ``redemption``: ``conflict`` is decided when the row is inserted (``services.booths``) and
  never changed after. Insert-only.
- ``journal_entry``: a snapshot pull (``services.ledger_snapshot``), run from a station, sets
  ``settled_at``: pure delivery state, so the station gets UPDATE on that one column and the
  trigger lets an UPDATE through only when nothing else changed.
- ``outbox_entry``: a push (``services.ledger_push.record_push``), run from a station, sets
  ``status``, ``pushed_at`` and ``error``: delivery state, granted as for ``settled_at``. The
  payload is rewritten only by ``event encrypt`` (sealing personal data) and ``event purge``
  (``services.personal_data``): owner-only, on the coordinator's laptop with the owner URL.
- A table whose name holds ``checkpoint`` (the audit chain's checkpoints, when they exist):
  insert-only, no column.
- Deleting an event reaches these tables through ``ON DELETE CASCADE``, which PostgreSQL runs
  as the tables' owner (so past the trigger): the station gets no DELETE on ``event``
  (``NO_DELETE``); the app never deletes an event, the coordinator's owner account may.

The grants must survive later migrations (a new table gets none by itself), so the station
role's name is kept in the database (table ``database_access``, which a database cloned with
``CREATE DATABASE ... TEMPLATE`` keeps, unlike database-level settings) and
``kiosk.db.migrate`` calls ``apply_grants`` after every upgrade made by the owner.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, exc, make_url, text

from kiosk.errors import DatabaseAccountTooWeak, DatabaseError, KioskError
from kiosk.i18n import _

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kiosk.db import Database

# The insert-only tables, each with the columns a station may still update (delivery state).
INSERT_ONLY: dict[str, tuple[str, ...]] = {
    "audit_record": (),
    "journal_entry": ("settled_at",),
    "journal_lot": (),
    "redemption": (),
    "outbox_entry": ("status", "pushed_at", "error"),
}
# Tables the station reads but never writes: the schema's version and its own role's name.
READ_ONLY = ("alembic_version", "database_access")
# Tables whose DELETE cascades into the insert-only ones (as the owner: past the trigger).
NO_DELETE = ("event",)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")


class Privilege(StrEnum):
    """What the account this laptop connects with may do."""

    SQLITE = "sqlite"  # a file: whoever can write it can do everything
    SUPERUSER = "superuser"
    OWNER = "owner"  # a member of the role that owns the tables: migrations, after-event work
    STATION = "station"  # anyone else: the staff stations' role


def privilege_of(connection: Connection) -> Privilege:
    """The privilege of the account ``connection`` is logged in with."""
    if connection.dialect.name != "postgresql":
        return Privilege.SQLITE
    row = connection.execute(
        text(
            "SELECT r.rolsuper, pg_has_role(current_user, COALESCE("
            " (SELECT relowner FROM pg_class WHERE oid = to_regclass('alembic_version')),"
            " (SELECT datdba FROM pg_database WHERE datname = current_database())), 'MEMBER')"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
    ).one()
    if row[0]:
        return Privilege.SUPERUSER
    return Privilege.OWNER if row[1] else Privilege.STATION


def insert_only_tables(connection: Connection) -> dict[str, tuple[str, ...]]:
    """The insert-only tables present in this database, with their delivery-state columns."""
    names = set(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    found = {table: columns for table, columns in INSERT_ONLY.items() if table in names}
    found.update({name: () for name in sorted(names) if "checkpoint" in name})
    return found


def station_role(connection: Connection) -> str | None:
    """The role the stations connect as, as ``kiosk db setup`` recorded it; None if unset."""
    if connection.execute(text("SELECT to_regclass('database_access')")).scalar() is None:
        return None
    return connection.execute(text("SELECT station_role FROM database_access")).scalar()


def apply_grants(connection: Connection) -> bool:
    """Grant the station role exactly its privileges on every table and sequence (idempotent).

    Run as the owner (or a superuser) after every upgrade; False, doing nothing, on SQLite,
    when no station role was recorded, or when this account cannot grant.
    """
    if privilege_of(connection) not in (Privilege.OWNER, Privilege.SUPERUSER):
        return False
    role = station_role(connection)
    if not role:
        return False
    quote = connection.dialect.identifier_preparer.quote
    station = quote(role)
    statements = [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {station}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {station}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {station}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {station}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {station}",
    ]
    for table in READ_ONLY:
        statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {quote(table)} FROM {station}")
    for table in NO_DELETE:
        statements.append(f"REVOKE DELETE ON {quote(table)} FROM {station}")
    for table, columns in insert_only_tables(connection).items():
        name = quote(table)
        statements.append(f"REVOKE UPDATE, DELETE ON {name} FROM {station}")
        if columns:
            listed = ", ".join(quote(c) for c in columns)
            statements.append(f"GRANT UPDATE ({listed}) ON {name} TO {station}")
        # A checkpoint table added by a later migration gets its trigger here too.
        arguments = ", ".join(f"'{c}'" for c in columns)
        statements.append(
            f"CREATE OR REPLACE TRIGGER insert_only BEFORE UPDATE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION kiosk_insert_only({arguments})"
        )
        statements.append(
            f"CREATE OR REPLACE TRIGGER insert_only_delete BEFORE DELETE OR TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kiosk_insert_only()"
        )
    for statement in statements:
        connection.execute(text(statement))
    return True


def prepare_upgrade(connection: Connection) -> None:
    """Before a migration on PostgreSQL, in its transaction: a station may not upgrade (one
    sentence); a superuser upgrading a set-up database acts as its owner, so the tables a
    migration adds belong to the owner like the others (and its trigger lets the owner by)."""
    privilege = privilege_of(connection)
    if privilege == Privilege.STATION:
        raise needs_owner_to_upgrade()
    if privilege != Privilege.SUPERUSER or not station_role(connection):
        return
    owner = connection.execute(
        text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(:t)"),
        {"t": "alembic_version"},
    ).scalar()
    if owner:
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(text(f"SET LOCAL ROLE {quote(owner)}"))


def require_owner(database: Database, action: str) -> None:
    """Refuse, in words, an owner-only command (``action``: what it does) on a station's URL."""
    if database.privilege == Privilege.STATION:
        raise DatabaseAccountTooWeak(
            _(
                "The database account in this URL ({user}) is a station's: it cannot {action}. "
                "Run this on the coordinator's laptop with the owner's database URL "
                "(the one kiosk db setup printed)."
            ).format(user=database.engine.url.username or "?", action=action)
        )


def needs_owner_to_upgrade() -> DatabaseError:
    """A station opening a database whose schema is older than this kiosk."""
    return DatabaseError(
        _(
            "The event database needs an upgrade, and only the coordinator's owner account can "
            "upgrade it: run kiosk init with the owner's database URL on the coordinator's "
            "laptop, then start this station again."
        )
    )


_TABLE_WORDS = {
    "audit_record": lambda: _("the audit records"),
    "journal_entry": lambda: _("the points journal"),
    "journal_lot": lambda: _("the points journal"),
    "redemption": lambda: _("the redemptions"),
    "outbox_entry": lambda: _("the ledger outbox"),
}


def _what(table: str) -> str:
    words = _TABLE_WORDS.get(table)
    return words() if words else _("the table “{table}”").format(table=table)


def is_permission_error(error: BaseException) -> bool:
    """PostgreSQL's insufficient_privilege (SQLSTATE 42501), also raised by the trigger."""
    orig = getattr(error, "orig", None)
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) == "42501"


def refused(error: exc.DBAPIError) -> DatabaseAccountTooWeak:
    """The sentence for a permission error: what this station's account cannot do, and who can."""
    message = str(error.orig)
    diag = getattr(error.orig, "diag", None)
    table = getattr(diag, "table_name", None) or ""
    if not table:
        found = re.search(r"(?:for|of) (?:table|relation|sequence) \"?([\w.]+)", message)
        table = found.group(1) if found else ""
    operation = re.search(r"\b(UPDATE|DELETE|TRUNCATE|INSERT)\b", message)
    statement = (getattr(error, "statement", "") or "").lstrip().split(" ", 1)[0].upper()
    verb = operation.group(1) if operation else statement
    if not table or verb in ("CREATE", "DROP", "ALTER"):
        action = _("change the structure of the event database")
    elif verb == "DELETE":
        action = _("delete from {what}").format(what=_what(table))
    elif verb == "TRUNCATE":
        action = _("empty {what}").format(what=_what(table))
    elif verb == "SELECT":
        action = _("read {what}").format(what=_what(table))
    else:
        action = _("change {what}").format(what=_what(table))
    return DatabaseAccountTooWeak(
        _(
            "This station's database account cannot {action}; nothing was saved. Ask the "
            "coordinator to do it on the event's own laptop."
        ).format(action=action)
    )


# --- kiosk db setup ----------------------------------------------------------------------


class SetupError(KioskError):
    """``kiosk db setup`` cannot go on (bad name, database exists, server refuses)."""


@dataclass(frozen=True)
class Roles:
    """What ``setup_database`` made: the database, its two roles and their URLs."""

    name: str
    owner_url: URL
    station_url: URL
    reset: bool = False  # an existing database whose roles got new passwords

    @property
    def owner(self) -> str:
        return str(self.owner_url.username)

    @property
    def station(self) -> str:
        return str(self.station_url.username)


def role_names(name: str) -> tuple[str, str]:
    return f"{name}_owner", f"{name}_station"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise SetupError(
            _(
                "“{name}” cannot name an event database: use lower-case letters, digits and "
                "underscores, starting with a letter, at most 50 characters."
            ).format(name=name)
        )
    return name


def _password() -> str:
    return secrets.token_urlsafe(24)


def _login_role(connection: Connection, role: str, password: str) -> bool:
    """Create ``role`` (or give an existing one this password): login, nothing else. True
    when this made it (so a set-up that fails can take it away again)."""
    quote = connection.dialect.identifier_preparer.quote
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).scalar()
    verb = "ALTER" if exists else "CREATE"
    # PASSWORD takes no bind parameter; the generated password is URL-safe base64.
    connection.execute(
        text(
            f"{verb} ROLE {quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"NOREPLICATION PASSWORD '{password}'"
        )
    )
    return not exists


def setup_database(
    admin_url: str,
    name: str,
    *,
    station_host: str,
    reset_passwords: bool = False,
) -> Roles:
    """Create the event database ``name`` owned by ``NAME_owner``, its two roles, the schema
    (migrated as the owner) and the station's grants, through ``admin_url`` (a superuser).

    An existing database is left as it is (``SetupError``), unless ``reset_passwords``: then
    its two roles get new passwords and nothing else changes.
    """
    from kiosk.db import create_db_engine

    check_name(name)
    admin = make_url(admin_url)
    if admin.get_backend_name() != "postgresql":
        raise SetupError(_("kiosk db setup needs a PostgreSQL superuser URL for --admin."))
    owner, station = role_names(name)
    passwords = {owner: _password(), station: _password()}
    engine = create_db_engine(admin_url)
    made: list[str] = []
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            if not connection.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar():
                raise SetupError(
                    _("The --admin account ({user}) is not a PostgreSQL superuser.").format(
                        user=admin.username or "?"
                    )
                )
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if exists and not reset_passwords:
                raise SetupError(
                    _(
                        "The database {name} exists already; nothing was changed (give "
                        "--reset-passwords to give its two roles new passwords)."
                    ).format(name=name)
                )
            for role, password in passwords.items():
                if _login_role(connection, role, password):
                    made.append(role)
            if not exists:
                quote = connection.dialect.identifier_preparer.quote
                connection.execute(
                    text(
                        f"CREATE DATABASE {quote(name)} OWNER {quote(owner)} "
                        "ENCODING 'UTF8' TEMPLATE template0"
                    )
                )
    except exc.DBAPIError as error:
        _undo(admin, None, made)  # the roles this made; the database was not made
        raise SetupError(
            _("The PostgreSQL server refused the set-up: {reason}").format(
                reason=str(error.orig).strip().splitlines()[0]
            )
        ) from None
    finally:
        engine.dispose()
    owner_url = admin.set(username=owner, password=passwords[owner], database=name)
    station_url = admin.set(
        username=station, password=passwords[station], database=name, host=station_host
    )
    if exists:
        return Roles(name, owner_url, station_url, reset=True)
    try:
        _lock_down(admin.set(database=name), owner, station)
        _migrate_as_owner(admin.set(database=name), owner, station)
    except (KioskError, exc.SQLAlchemyError) as error:
        # Half a set-up helps nobody and would make the next try say "exists already".
        _undo(admin, name, made)
        reason = str(error) if isinstance(error, KioskError) else _first_line(error)
        raise SetupError(
            _("The set-up stopped: {reason} Nothing was left on the server.").format(reason=reason)
        ) from None
    return Roles(name, owner_url, station_url)


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def _migrate_as_owner(url: URL, owner: str, station: str) -> None:
    """The schema, the station's name and its grants, made through the superuser's own
    connection acting as the owner (SET ROLE): the tables belong to the owner, and the set-up
    needs no pg_hba.conf line for the owner yet (it prints those lines for after)."""
    from sqlalchemy import event

    from kiosk.db import create_db_engine, migrate

    engine = create_db_engine(url.render_as_string(hide_password=False))

    def as_owner(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {engine.dialect.identifier_preparer.quote(owner)}")
        dbapi_connection.commit()  # SET is transactional: kept only once committed

    event.listen(engine, "connect", as_owner)
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO database_access (id, station_role) VALUES (1, :r)"),
                {"r": station},
            )
            apply_grants(connection)
    finally:
        engine.dispose()


def _undo(admin: URL, name: str | None, roles: list[str]) -> None:
    """Drop the database this set-up created (``name``; None: it made none) and the roles it
    made (best effort: the sentence that follows says what happened in any case)."""
    from kiosk.db import create_db_engine

    engine = create_db_engine(admin.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            quote = connection.dialect.identifier_preparer.quote
            if name is not None:
                connection.execute(text(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)"))
            for role in roles:
                connection.execute(text(f"DROP ROLE IF EXISTS {quote(role)}"))
    except exc.SQLAlchemyError:
        pass
    finally:
        engine.dispose()


def _lock_down(admin_url: URL, owner: str, station: str) -> None:
    """As the superuser, in the new database: the owner owns the schema (PostgreSQL before 15
    gives it to the bootstrap superuser), and only the station may connect besides it."""
    from kiosk.db import create_db_engine

    engine = create_db_engine(admin_url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            quote = connection.dialect.identifier_preparer.quote
            database = quote(str(admin_url.database))
            for statement in (
                f"ALTER SCHEMA public OWNER TO {quote(owner)}",
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                f"REVOKE ALL ON DATABASE {database} FROM PUBLIC",
                f"GRANT CONNECT ON DATABASE {database} TO {quote(station)}",
            ):
                connection.execute(text(statement))
    finally:
        engine.dispose()


def hba_lines(roles: Roles, subnet: str) -> list[str]:
    """The pg_hba.conf lines: the station from the LAN, the owner from this machine only."""
    return [
        f"hostssl  {roles.name}  {roles.station}  {subnet}  scram-sha-256",
        f"hostssl  {roles.name}  {roles.owner}  127.0.0.1/32  scram-sha-256",
        f"hostssl  {roles.name}  {roles.owner}  ::1/128  scram-sha-256",
    ]


def write_private(path: Path, content: str) -> None:
    """Write ``content`` readable by this user only: 0600 on Linux/macOS, in a folder made
    0700 when this creates it (an existing folder, a desktop say, is left as it is)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        if os.name == "posix":
            path.parent.chmod(stat.S_IRWXU)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        if os.name == "posix":
            os.fchmod(handle.fileno(), 0o600)  # an existing looser file too
        handle.write(content)


def url_text(url: URL) -> str:
    """The URL with its password, in the plain ``postgresql://`` form clients accept."""
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def stations_open(url: str, shown: str) -> str:
    """What the stations open after ``kiosk event copy`` to ``url`` (``shown``: it without
    its password): on a database ``kiosk db setup`` made, the station account's URL, never
    this owner's one; elsewhere this same URL."""
    from kiosk.db import open_database

    database = open_database(url, migrate_schema=False)
    try:
        station = None
        if not database.is_sqlite:
            with database.engine.connect() as connection:
                station = station_role(connection)
    finally:
        database.dispose()
    if station:
        return _(
            "The stations open the station account's URL ({station}, printed by kiosk db "
            "setup), never this owner's URL."
        ).format(station=station)
    return _("Stations now open: kiosk --db {target}").format(target=shown)
