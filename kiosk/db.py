"""Opening the event database: any SQLAlchemy URL, migrated on open, clear errors.

SQLite is the default (one file in the per-user data directory) and is tuned for an event
day: WAL so readers never wait for the writer, ``synchronous=FULL`` so a power cut loses no
committed check-in, foreign keys on, and every transaction ``BEGIN IMMEDIATE`` so two desks
writing at once queue up instead of failing with "database is locked" on lock upgrade.
PostgreSQL serves several laptops; migrations there take an advisory lock so two stations
starting at once do not both migrate.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, exc, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from kiosk import credentials, files, lan_tls, lengths, netwait, readonly
from kiosk.changes import OwnCommits, track_changes

# Re-exported: callers keep importing these from kiosk.db.
from kiosk.datadir import APP_NAME as APP_NAME
from kiosk.datadir import ENV_DB as ENV_DB
from kiosk.datadir import default_data_dir, default_url
from kiosk.errors import DatabaseError, SchemaTooNewError
from kiosk.i18n import _
from kiosk.pool_ping import ping_when_idle

if TYPE_CHECKING:
    from alembic.config import Config

    from kiosk.dbroles import Privilege

# The newest migration. Opening a database already at this revision needs no Alembic at all,
# which keeps almost a second of imports off every start-up; tests/unit/kiosk/test_migrations.py
# fails when a new migration is added without updating this.
HEAD_REVISION = "9b4d2f6a1c83"

_PG_MIGRATION_LOCK = 0x6B696F736B  # "kiosk"
# Every engine this process made, so a command can close what it opened even when it stopped
# half-way (``cli.main``): a PostgreSQL connection left to the garbage collector stays open
# at the server until then, one per failed command.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def open_engines() -> set[Engine]:
    """The engines made by ``create_db_engine`` that still exist."""
    return set(_engines)


def describe_url(url: str | URL) -> str:
    """The URL without its password, for messages and the window title."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (exc.ArgumentError, ValueError):
        # Mistyped, but it may still carry a password after "user:": never shown.
        return re.sub(r"(//[^:/@\s]*:)[^@\s]*@", r"\1***@", str(url))


@dataclass
class Database:
    url: str
    engine: Engine
    session_factory: sessionmaker[Session]
    # The change-counter values this process's commits reached (``kiosk.changes``).
    own_commits: OwnCommits = field(default_factory=OwnCommits)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @cached_property
    def privilege(self) -> Privilege:
        """What this laptop's database account may do (``kiosk.dbroles``): sqlite, superuser,
        owner or station. Asked once, when first needed."""
        from kiosk.dbroles import privilege_of

        with self.engine.connect() as connection:
            return privilege_of(connection)

    def unit_of_work(self, *, patient: bool = False) -> Any:
        from kiosk.uow import UnitOfWork

        return UnitOfWork(self.session_factory, patient=patient)

    def shared_read(self, *, patient: bool = False) -> Any:
        """One transaction for several reads (``kiosk.uow.SharedRead``)."""
        from kiosk.uow import SharedRead

        return SharedRead(self.session_factory, patient=patient)

    def dispose(self) -> None:
        self.engine.dispose()


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseError(
            _(
                "“{url}” is not a database URL. Use e.g. sqlite:///path/event.sqlite3 "
                "or postgresql://user@host/dbname."
            ).format(url=describe_url(url))
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            _("Database type “{kind}” is not supported; use SQLite or PostgreSQL.").format(
                kind=parsed.get_backend_name()
            )
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        # Over the network only verify-full with the event CA (issue #29): refused here, before
        # any connection, when the URL asks for less or the CA file is not there.
        parsed = lan_tls.client_policy(parsed, default_data_dir())
    return parsed


def _prepare_sqlite_file(parsed: URL) -> None:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    folder = path.parent
    try:
        _private_sqlite_folder(folder)
    except OSError as error:
        raise DatabaseError(
            _("Cannot create the data folder {folder}: {reason}.").format(
                folder=folder, reason=error.strerror or error
            )
        ) from None
    # SQLite in WAL mode needs to create -wal/-shm files beside the database.
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise DatabaseError(
            _("The data folder {folder} is read-only; choose a writable place with --db.").format(
                folder=folder
            )
        )
    _private_sqlite_files(path)


def _private_sqlite_folder(folder: Path) -> None:
    """The database's folder, made 0700 when missing (issue #29). An existing one is
    tightened only when it is the app's own data folder (or inside it): a folder named with
    --db may hold other things (a home folder), and the database's files are private anyway."""
    data, folder = default_data_dir().absolute(), folder.absolute()
    own = folder == data or data in folder.parents
    if own:
        files.private_folder(data)
    files.private_folder(folder, tighten_existing=own)


def _private_sqlite_files(path: Path) -> None:
    """The database file created 0600 before SQLite opens it, so its -wal and -shm files,
    which SQLite creates with the database's mode, are private too; looser ones left by an
    older kiosk are tightened (with a note, ``kiosk.files.take_notes``)."""
    try:
        files.private_file(path)
        for suffix in ("-wal", "-shm", "-journal"):
            files.tighten(path.with_name(path.name + suffix), files.PRIVATE_FILE)
    except OSError:
        pass  # not writable: SQLite says so in its own words (_unreachable)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so that BEGIN is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Deleted or replaced content (personal data after a purge) is zeroed, not left in free
    # pages; many builds default to this, not all.
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


# Execution option of a connection that only reads (the dashboard's figures): on SQLite its
# transaction begins DEFERRED, a snapshot like any other (WAL) but without the write lock,
# so a long read does not hold the other stations' writes back. Everything else begins
# IMMEDIATE, so a transaction that reads and then writes never fails to upgrade its lock.
READ_ONLY = "kiosk_read_only"


def _sqlite_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _lean_cursors(dbapi_connection: Any, record: Any) -> None:
    """Every PostgreSQL connection's cursors describe their results cheaply
    (``kiosk.pg_cursor``, imported here: a booth laptop has no psycopg)."""
    from kiosk.pg_cursor import use_lean_cursors

    use_lean_cursors(dbapi_connection, record)


def create_db_engine(
    url: str, *, bound: float | None = None, server_timeouts: bool = True
) -> Engine:
    """An engine for ``url`` with the event-day settings; raises ``DatabaseError``.

    ``bound``: a station's engine on PostgreSQL waits at most this many seconds for any one
    answer, and its server gives up first (``kiosk.netwait``). A command's engine (the event
    database of a command-line tool, a points ledger) passes ``netwait.command_bound()`` with
    ``server_timeouts=False``: the client's deadline only, and a new connection within
    ``netwait.COMMAND_CONNECT_TIMEOUT``, since its statements may rightly be long.
    """
    parsed = _parse(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
    else:
        # No pool_pre_ping (a round trip on every checkout): kiosk.pool_ping, added below.
        # On the venue LAN a cable can be pulled mid-query: without keepalives and a TCP user
        # timeout a station would wait for minutes on a dead connection; with them it fails
        # within seconds and says so (kiosk.uow turns that into DatabaseUnavailable). A
        # station bounds every wait itself too (kiosk.netwait): a silent drop behind
        # something that still acknowledges the bytes defeats the TCP timers.
        connect_args: dict[str, Any] = {
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        }
        if bound is not None and not server_timeouts:
            connect_args["connect_timeout"] = netwait.COMMAND_CONNECT_TIMEOUT
        elif bound is not None:
            connect_args["connect_timeout"] = netwait.CONNECT_TIMEOUT
            given = parsed.query.get("options")  # the URL's own ?options=, kept first
            options = netwait.server_options(bound)
            connect_args["options"] = f"{given} {options}" if isinstance(given, str) else options
        kwargs["connect_args"] = connect_args
    try:
        engine = create_engine(parsed, **kwargs)
    except (ModuleNotFoundError, exc.NoSuchModuleError) as error:
        raise DatabaseError(
            _("The driver for this database is not installed ({name}).").format(name=error)
        ) from None
    if engine.dialect.name == "postgresql" and bound is not None:
        event.listen(engine, "do_connect", netwait.connector(bound))
        if server_timeouts:
            event.listen(engine, "begin", netwait.lift_server_timeouts)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        if lengths.strict():
            lengths.enforce_on_sqlite(engine)
    else:
        ping_when_idle(engine)
        readonly.track(engine)  # read-only transactions keep the prepared statements
        event.listen(engine, "connect", _lean_cursors)
    _engines.add(engine)
    return engine


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("kiosk") / "migrations"))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _stored_revision(connection)


def _stored_revision(connection: Any) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to head, refusing a database migrated by a newer kiosk."""
    with engine.connect() as connection:
        if _stored_revision(connection) == HEAD_REVISION:
            return  # the common case: nothing to do, and no Alembic to import
    from alembic.script import ScriptDirectory

    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite rebuilds a table to change a constraint; with foreign keys on, dropping the
            # old table fails while other tables point at it. The switch only works outside a
            # transaction, so it goes straight to the driver; integrity is checked after.
            _foreign_keys(connection, on=False)
        try:
            with connection.begin():
                _upgrade(connection, config, script)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                connection.rollback()
                if broken:
                    raise DatabaseError(
                        _(
                            "The database upgrade left {n} broken references; restore the "
                            "backup and report this."
                        ).format(n=len(broken))
                    )
        finally:
            if sqlite:
                _foreign_keys(connection, on=True)
    if not sqlite:
        _grant_to_stations(engine)


def _grant_to_stations(engine: Engine) -> None:
    """After an upgrade, give the stations' role its privileges on any new table too."""
    from kiosk.dbroles import apply_grants

    with engine.begin() as connection:
        apply_grants(connection)


def _foreign_keys(connection: Any, *, on: bool) -> None:
    connection.connection.driver_connection.execute(
        f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}"
    )


def _upgrade(connection: Any, config: Config, script: Any) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    current = _stored_revision(connection)
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise SchemaTooNewError(
                _(
                    "This database was created by a newer version of kiosk (schema {rev}). "
                    "Update kiosk on this machine before opening it."
                ).format(rev=current)
            ) from None
    if current == script.get_current_head():
        return
    if connection.dialect.name == "postgresql":
        from kiosk.dbroles import prepare_upgrade

        prepare_upgrade(connection)  # a station may not; a superuser acts as the owner
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _unreachable(url: URL, error: BaseException) -> DatabaseError:
    from kiosk import storage

    if url.get_backend_name() == "postgresql":
        refused = lan_tls.tls_failure(url, error)  # no TLS, another CA or host name, expired
        if refused is not None:
            return DatabaseError(refused)
    place = storage.database_place(url)
    cause = storage.cause_of(error, place)
    if cause is not None and cause != storage.Cause.CONNECTION:
        return DatabaseError(
            _("The database {path} cannot be opened. {what}").format(
                path=url.database if place.local else describe_url(url),
                what=storage.what_to_do(cause, place),
            )
        )
    if url.get_backend_name() == "sqlite":
        reason = str(getattr(error, "orig", error))
        if "readonly" in reason or "read-only" in reason:
            return DatabaseError(
                _(
                    "The database file {path} is read-only; choose a writable place with --db."
                ).format(path=url.database)
            )
        if "not a database" in reason:
            return DatabaseError(
                _(
                    "{path} is not a kiosk database (the file is damaged or of another kind)."
                ).format(path=url.database)
            )
        return DatabaseError(
            _("Cannot open the database file {path}: {reason}.").format(
                path=url.database, reason=reason
            )
        )
    return DatabaseError(
        _(
            "Cannot reach the database server at {host}:{port} (database “{db}”). "
            "Check that it is running and that the address is right."
        ).format(host=url.host or "localhost", port=url.port or 5432, db=url.database or "")
    )


def open_database(
    url: str | None = None,
    *,
    migrate_schema: bool = True,
    bound: float | None = None,
    server_timeouts: bool = True,
) -> Database:
    """Open (and by default migrate) the event database at ``url``.

    ``bound``: a station's limit on any one wait for the database (``kiosk.netwait``); the
    migration is a long operation and runs without it.

    Raises ``DatabaseError`` with one plain sentence for a bad URL, a missing driver, an
    unreachable server, a read-only location, a damaged file or a too-new schema. A server
    URL without a password gets the one this laptop's credential store keeps for it, if any
    (``kiosk.credentials``), as libpq would take it from a password file.
    """
    url = credentials.recall(url or default_url())
    parsed = _parse(url)
    engine = create_db_engine(url, bound=bound, server_timeouts=server_timeouts)
    try:
        if migrate_schema:
            with netwait.patient():
                migrate(engine)
        else:
            with engine.connect():
                pass
    except DatabaseError:
        engine.dispose()
        raise
    except (exc.OperationalError, exc.InterfaceError, exc.DatabaseError) as error:
        engine.dispose()
        raise _unreachable(parsed, error) from None
    factory = sessionmaker(engine, expire_on_commit=False)
    own = track_changes(factory)
    return Database(url=url, engine=engine, session_factory=factory, own_commits=own)


def connect_lazily(url: str, *, bound: float | None = None) -> Database:
    """The event database at ``url`` without connecting now (nor migrating).

    For a merchant booth on the LAN: it must start and scan at once even when the server is
    unreachable, and a station (``open_database``) has migrated the schema already.
    """
    url = credentials.recall(url)
    engine = create_db_engine(url, bound=bound)
    factory = sessionmaker(engine, expire_on_commit=False)
    own = track_changes(factory)
    return Database(url=url, engine=engine, session_factory=factory, own_commits=own)
