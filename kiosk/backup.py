"""Backups of the event database to a second place (a USB stick), with rotation, and restore.

SQLite: ``VACUUM INTO`` a temporary file beside the target, fsync, then an atomic rename. It
runs as one read transaction, so in WAL mode it sees one consistent moment of the database
while the stations go on writing (readers never block writers in WAL), and the copy has no
free pages, so nothing deleted or replaced (a purge, an encryption) survives in it. An
event-size database takes milliseconds (``benchmarks/backup.py``), so the app runs it on its
main thread from a timer.

PostgreSQL: ``pg_dump --format=custom``, which exports from one snapshot (a REPEATABLE READ
transaction), so the dump is consistent too; ``pg_restore`` restores it into an empty
database.

Files are named ``kiosk-<event>-<YYYYmmdd-HHMMSS-mmm>.sqlite3`` (``.dump`` for PostgreSQL), so
they sort by time; ``keep`` newest of the event are kept, older ones removed. A backup holds
what the database holds: masked forms and sealed values, never a clear ID or phone (unless the
database predates ``kiosk event encrypt``).

Beside them, ``kiosk-<event>-checkpoints.jsonl`` keeps every signed checkpoint of the audit
chain the database held at any backup (``kiosk.checkpoint``), never pruned: the stick keeps
the proof of how far the chain reached even if the database's copy is removed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from kiosk import checkpoint, storage
from kiosk.clock import Clock
from kiosk.db import Database, describe_url, open_database
from kiosk.errors import KioskError
from kiosk.files import atomic_path, private_folder
from kiosk.i18n import _
from kiosk.models import Event

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
DEFAULT_KEEP = 24  # two hours at one backup every five minutes


class BackupError(KioskError):
    """A backup or restore that cannot be done; the sentence says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    seconds: float
    removed: list[Path] = field(default_factory=list)


def _event_code(database: Database) -> str:
    with database.unit_of_work() as uow:
        code = uow.session.scalar(select(Event.code).order_by(Event.id.desc()).limit(1))
    return code or "event"


def backups(folder: Path, event_code: str) -> list[Path]:
    """The event's backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(f"kiosk-{event_code}-") and p.suffix in (".sqlite3", ".dump")
    )


def _prepare_folder(folder: Path) -> None:
    """The backup folder: made 0700 (a looser one tightened, with a note) on Linux/macOS,
    since every backup holds the whole event's customers (issue #29)."""
    try:
        private_folder(folder)
    except OSError as error:
        raise BackupError(
            _("Cannot use the backup folder {folder}: {reason}.").format(
                folder=folder, reason=error.strerror or error
            )
        ) from None
    if not os.access(folder, os.W_OK):
        raise BackupError(
            _("The backup folder {folder} is read-only; is the USB stick locked?").format(
                folder=folder
            )
        )


def backup(
    database: Database, folder: Path, *, keep: int = DEFAULT_KEEP, clock: Clock | None = None
) -> BackupResult:
    """One consistent backup of the event database into ``folder``, then the rotation."""
    if keep < 1:
        raise BackupError(_("Keep at least one backup."))
    _prepare_folder(folder)
    code = _event_code(database)
    now = (clock or Clock()).now().astimezone()
    stamp = f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
    suffix = ".sqlite3" if database.is_sqlite else ".dump"
    target = folder / f"kiosk-{code}-{stamp}{suffix}"
    started = time.perf_counter()
    try:
        # The event's signed checkpoints go beside the backups first (issue #26): kept there
        # even if someone later removes them from the database, for ``kiosk audit verify``.
        with database.unit_of_work() as uow:
            signed = checkpoint.in_database(uow.session, code)
        if signed:
            checkpoint.keep_in_folder(folder, code, signed)
        # No half backup ever carries a backup's name; a whole one is 0600 wherever it is.
        with atomic_path(target, private=True) as partial:
            if database.is_sqlite:
                _vacuum_into(database, partial)
            else:
                _pg_dump(database.engine.url, partial)
    except (OSError, sqlite3.Error, BackupError, checkpoint.CheckpointError) as error:
        raise _failed(folder, error) from None
    seconds = time.perf_counter() - started
    removed = []
    for old in backups(folder, code)[:-keep]:
        old.unlink(missing_ok=True)
        removed.append(old)
    return BackupResult(target, target.stat().st_size, seconds, removed)


def _failed(folder: Path, error: BaseException) -> BackupError:
    """The backup's failure in words: a full or write-protected stick is told as such."""
    place = storage.place_of(folder)
    cause = storage.cause_of(error, place)
    if cause is not None and cause != storage.Cause.CONNECTION:
        return BackupError(
            _("The backup to {folder} failed; no backup file was left half-written. {what}").format(
                folder=folder, what=storage.what_to_do(cause, place)
            )
        )
    if isinstance(error, BackupError):
        return error
    return BackupError(
        _("The backup to {folder} failed: {reason}.").format(
            folder=folder, reason=getattr(error, "strerror", None) or error
        )
    )


def _vacuum_into(database: Database, path: Path) -> None:
    # The raw connection: the engine wraps everything in BEGIN IMMEDIATE (a write lock), and
    # VACUUM INTO must run outside a transaction; on its own it only reads.
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute("VACUUM INTO ?", (str(path),))
        finally:
            cursor.close()
    finally:
        raw.close()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in the environment, not on the command
    line every user can list)."""
    plain = url.set(drivername="postgresql", password=None)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            _("{tool} is not installed; install the PostgreSQL client tools.").format(
                tool=command[0]
            )
        )
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(
            _("{tool} failed: {reason}").format(
                tool=command[0], reason=lines[-1] if lines else done.returncode
            )
        )


def _pg_dump(url: URL, path: Path) -> None:
    uri, environment = _libpq(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path), uri], environment)


@dataclass(frozen=True)
class RestoreResult:
    url: str
    taken_at: datetime | None  # from the file name


def _taken_at(path: Path) -> datetime | None:
    parts = path.stem.rsplit("-", 3)
    try:
        return datetime.strptime(parts[-3] + parts[-2] + parts[-1], "%Y%m%d%H%M%S%f")
    except (ValueError, IndexError):
        return None


def restore(path: Path, url: str, *, replace: bool = False) -> RestoreResult:
    """Restore a backup into the database at ``url`` (an SQLite file that does not exist
    yet, or an empty PostgreSQL database), check it and bring its schema up to date."""
    try:
        with open(path, "rb") as file:
            header = file.read(16)
    except OSError as error:
        raise BackupError(
            _("Cannot read {path}: {reason}.").format(path=path, reason=error.strerror or error)
        ) from None
    target = make_url(url) if "://" in url else None
    if target is None or target.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(
            _("Restore into sqlite:///path/event.sqlite3 or postgresql://…, not “{url}”.").format(
                url=describe_url(url)
            )
        )
    if header.startswith(SQLITE_HEADER):
        if target.get_backend_name() != "sqlite":
            raise BackupError(_("This is an SQLite backup: restore it into an sqlite:/// URL."))
        _restore_sqlite(path, Path(target.database or ""), replace=replace)
    elif header.startswith(PG_DUMP_HEADER):
        if target.get_backend_name() != "postgresql":
            raise BackupError(_("This is a PostgreSQL dump: restore it into a postgresql:// URL."))
        _restore_pg(path, target)
    else:
        raise BackupError(_("{path} is not a kiosk backup.").format(path=path))
    database = open_database(url)  # migrates a backup from an older kiosk
    database.dispose()
    return RestoreResult(url, _taken_at(path))


def _restore_sqlite(path: Path, target: Path, *, replace: bool) -> None:
    if not str(target):
        raise BackupError(_("Say which file to restore into: --db sqlite:///path/event.sqlite3."))
    check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(
            _("The backup {path} is damaged: {reason}.").format(path=path, reason=error)
        ) from None
    finally:
        check.close()
    if result is None or result[0] != "ok":
        raise BackupError(
            _("The backup {path} is damaged: {reason}.").format(
                path=path, reason=result[0] if result else "?"
            )
        )
    if target.exists() and not replace:
        raise BackupError(
            _(
                "{target} already exists; move it away first (or use --replace), so no event "
                "database is overwritten by mistake."
            ).format(target=target)
        )
    try:
        private_folder(target.parent, tighten_existing=False)
        with atomic_path(target, private=True) as partial:
            shutil.copyfile(path, partial)
            for extra in ("-wal", "-shm"):  # the old file's WAL must not be replayed onto it
                target.with_name(target.name + extra).unlink(missing_ok=True)
    except OSError as error:
        raise BackupError(str(storage.file_error(error, target))) from None


def _restore_pg(path: Path, target: URL) -> None:
    from sqlalchemy import inspect

    from kiosk.db import create_db_engine

    engine = create_db_engine(target.render_as_string(hide_password=False))
    try:
        tables = inspect(engine).get_table_names()
    except Exception as error:
        raise BackupError(
            _("The database to restore into cannot be reached: {reason}").format(reason=error)
        ) from None
    finally:
        engine.dispose()
    if tables:
        raise BackupError(
            _("Restore into an empty PostgreSQL database; this one has {n} tables.").format(
                n=len(tables)
            )
        )
    uri, environment = _libpq(target)
    _run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", uri, str(path)], environment)
