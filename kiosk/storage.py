"""Why a write failed, in words a member of staff can act on, and how much room is left.

A full disk, a write-protected USB stick, a folder this user may not write to and a lost
connection to the event database all reach the code as some "OperationalError" or "OSError";
telling them apart matters because the fix differs (free space on this laptop; unlock the
stick; choose another folder; check the network), and staff told "connection lost" when the
disk is full will check the cable, not the disk. ``cause_of`` finds the cause in the chain of
an exception (SQLite's result codes, PostgreSQL's SQLSTATE, the OS error number), ``Place``
names where (the disk and folder on this laptop, or the event database server), and
``sentence`` says what happened and what to do.

SQLite reports a full disk as ``SQLITE_FULL`` when it extends the database or its WAL, but
as an I/O error (``SQLITE_IOERR_SHMSIZE``, ``SQLITE_IOERR_WRITE``) on some paths (the shared
memory file at open, a short write); an I/O error on a disk with (next to) no space left is
therefore also a full disk.
"""

from __future__ import annotations

import enum
import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.i18n import _

DEFAULT_LOW_SPACE_MB = 200
ENV_LOW_SPACE = "KIOSK_LOW_SPACE_MB"
# Below this, an I/O error while writing is taken for a full disk (SQLite says "disk I/O
# error" when it cannot extend its shared-memory file).
NEARLY_FULL = 1024 * 1024


class Cause(enum.StrEnum):
    DISK_FULL = "disk_full"
    READ_ONLY = "read_only"
    NO_PERMISSION = "no_permission"
    DISK_IO = "disk_io"  # the medium failed: a pulled USB stick, a bad card
    CONNECTION = "connection"  # the event database server cannot be reached


@dataclass(frozen=True)
class Place:
    """Where a write goes, as staff can find it: a disk and folder of this laptop, or the
    event database server (``local`` False: freeing it is the coordinator's job)."""

    name: str
    local: bool = True
    path: Path | None = None


class StorageError(KioskError):
    """A write that failed for a reason of the disk or the connection, told in words."""

    def __init__(self, message: str, *, cause: Cause, place: Place | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.place = place


# -- finding the cause ------------------------------------------------------------------------

_SQLITE = {
    13: Cause.DISK_FULL,  # SQLITE_FULL
    8: Cause.READ_ONLY,  # SQLITE_READONLY (and its extended codes)
    3: Cause.NO_PERMISSION,  # SQLITE_PERM
    23: Cause.NO_PERMISSION,  # SQLITE_AUTH
    10: Cause.DISK_IO,  # SQLITE_IOERR (and its extended codes)
    14: Cause.DISK_IO,  # SQLITE_CANTOPEN
}
_ERRNO = {
    errno.ENOSPC: Cause.DISK_FULL,
    errno.EDQUOT: Cause.DISK_FULL,
    errno.EFBIG: Cause.DISK_FULL,
    errno.EROFS: Cause.READ_ONLY,
    errno.EACCES: Cause.NO_PERMISSION,
    errno.EPERM: Cause.NO_PERMISSION,
    errno.EIO: Cause.DISK_IO,
    errno.ENODEV: Cause.DISK_IO,
    errno.ENXIO: Cause.DISK_IO,
}
_TEXTS = (  # tools that report only text (pg_dump, pg_restore, a print command)
    ("no space left on device", Cause.DISK_FULL),
    ("disk is full", Cause.DISK_FULL),
    ("could not extend file", Cause.DISK_FULL),
    ("disk quota exceeded", Cause.DISK_FULL),
    ("read-only file system", Cause.READ_ONLY),
    ("readonly database", Cause.READ_ONLY),
    ("permission denied", Cause.NO_PERMISSION),
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (SQLAlchemy's ``orig``) and what caused it, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _pg_cause(error: BaseException) -> Cause | None:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if not state:
        return None
    if state == "53100":  # disk_full: "could not extend file …: No space left on device"
        return Cause.DISK_FULL
    if state == "25006":  # read_only_sql_transaction (a standby, or default_transaction_read_only)
        return Cause.READ_ONLY
    if state == "42501":  # insufficient_privilege
        return Cause.NO_PERMISSION
    if state.startswith("58"):  # system_error / io_error: the server's disk
        return _text_cause(str(error)) or Cause.DISK_IO
    if state.startswith(("08", "57P")):  # connection exceptions, the server shutting down
        return Cause.CONNECTION
    return None


def _text_cause(text: str) -> Cause | None:
    lowered = text.lower()
    for needle, cause in _TEXTS:
        if needle in lowered:
            return cause
    return None


def cause_of(error: BaseException, place: Place | None = None) -> Cause | None:
    """The cause of a failed write, or None when it is none of these (a bug, a refusal).

    ``place`` lets an I/O error on a nearly full local disk count as a full disk.
    """
    for current in _chain(error):
        cause: Cause | None = None
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            cause = _SQLITE.get(code & 0xFF) if isinstance(code, int) else None
            cause = cause or _text_cause(str(current))
        elif isinstance(current, OSError) and current.errno is not None:
            cause = _ERRNO.get(current.errno)
        elif type(current).__module__.startswith("psycopg"):
            cause = _pg_cause(current)
            if cause is None and type(current).__name__ in ("OperationalError", "InterfaceError"):
                cause = Cause.CONNECTION
        if cause is None and isinstance(current, OSError) and current.errno is None:
            cause = _text_cause(str(current))
        if cause is not None:
            if cause == Cause.DISK_IO and place is not None and place.local and place.path:
                free = free_space(place.path)
                if free is not None and free < NEARLY_FULL:
                    return Cause.DISK_FULL
            return cause
    return None


# -- naming the place -------------------------------------------------------------------------


def _existing_folder(path: Path) -> Path:
    path = Path(path).expanduser()
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _mount_point(folder: Path) -> Path:
    folder = folder.resolve()
    while not os.path.ismount(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def place_of(path: str | Path) -> Place:
    """The disk and folder of ``path`` as staff find them: "C 盘" on Windows; on Linux and
    macOS the folder and the disk it is on, e.g. "磁盘 / 上的 /home/staff/kiosk", or just
    "/media/usb" for the top of a USB stick."""
    target = Path(path).expanduser()
    folder = _existing_folder(target)
    if os.name == "nt":  # pragma: no cover - Windows laptops
        drive = folder.resolve().drive.rstrip(":\\") or str(folder)
        return Place(_("drive {drive}").format(drive=drive), True, target)
    mount = _mount_point(folder)
    if mount == folder.resolve():
        return Place(str(mount), True, target)
    return Place(_("{folder} on the disk {mount}").format(mount=mount, folder=folder), True, target)


def server_place(host: str | None) -> Place:
    return Place(_("the event database server {host}").format(host=host or "localhost"), False)


def database_place(url: object) -> Place:
    """Where an SQLAlchemy URL's data lives: the SQLite file's disk, or the server."""
    from sqlalchemy import make_url

    parsed = make_url(str(url)) if not hasattr(url, "get_backend_name") else url
    if parsed.get_backend_name() == "sqlite":  # type: ignore[union-attr]
        database = parsed.database or ""  # type: ignore[union-attr]
        if database and database != ":memory:" and not database.startswith("file:"):
            return place_of(Path(database))
        return place_of(Path.cwd())
    return server_place(parsed.host)  # type: ignore[union-attr]


# -- free space -------------------------------------------------------------------------------


def free_space(path: str | Path) -> int | None:
    """Bytes free for this user where ``path`` is (or would be written); None if unknown."""
    try:
        return shutil.disk_usage(_existing_folder(Path(path))).free
    except OSError:
        return None


def low_space_threshold() -> int:
    """The warning threshold in bytes: ``KIOSK_LOW_SPACE_MB`` (default 200 MB)."""
    try:
        megabytes = int(os.environ.get(ENV_LOW_SPACE, "") or DEFAULT_LOW_SPACE_MB)
    except ValueError:
        megabytes = DEFAULT_LOW_SPACE_MB
    return max(0, megabytes) * 1024 * 1024


@dataclass(frozen=True)
class SpaceReport:
    """The least free space among the folders a station writes to, and where that is."""

    free: int
    place: Place

    @property
    def megabytes(self) -> int:
        return self.free // (1024 * 1024)


def lowest_space(paths: list[Path]) -> SpaceReport | None:
    """The folder with the least free space (folders on one disk counted once)."""
    best: SpaceReport | None = None
    for path in paths:
        free = free_space(path)
        if free is not None and (best is None or free < best.free):
            best = SpaceReport(free, place_of(path))
    return best


def low_space_warning(report: SpaceReport | None, threshold: int) -> str:
    """The sentence a station shows before the disk runs out; "" when there is room."""
    if report is None or threshold <= 0 or report.free >= threshold:
        return ""
    if report.free < NEARLY_FULL:
        return _(
            "The disk is full: {place} has no space left, so nothing more can be saved. Free "
            "some space there now (delete or move files); what was saved is not lost."
        ).format(place=report.place.name)
    return _(
        "Little disk space left: {mb} MB free on {place}. Free some space there soon (delete "
        "or move files); when it is full nothing more can be saved."
    ).format(mb=report.megabytes, place=report.place.name)


# -- the sentence -----------------------------------------------------------------------------


def what_to_do(cause: Cause, place: Place) -> str:
    """The cause and the fix, e.g. "磁盘已满（C 盘）：请清理该磁盘后重试…"; the caller says
    what was and was not done."""
    if cause == Cause.DISK_FULL:
        if not place.local:
            return _(
                "The disk of {place} is full: ask the coordinator to free space on it, then "
                "try again; what was already done is not lost."
            ).format(place=place.name)
        return _(
            "The disk is full ({place}): free some space on it (delete or move files) and try "
            "again; what was already done is not lost."
        ).format(place=place.name)
    if cause == Cause.READ_ONLY:
        return _(
            "{place} is read-only: check that the USB stick or card is not write-protected, or "
            "choose another folder, then try again."
        ).format(place=place.name)
    if cause == Cause.NO_PERMISSION:
        return _(
            "This user may not write to {place}: choose another folder, or ask whoever set up "
            "the laptop to allow it, then try again."
        ).format(place=place.name)
    if cause == Cause.DISK_IO:
        return _(
            "{place} could not be written (was a USB stick or card pulled out?): put it back or "
            "choose another folder, then try again."
        ).format(place=place.name)
    return _("{place} cannot be reached: check the network cable or Wi-Fi, then try again.").format(
        place=place.name
    )


def file_error(error: BaseException, path: str | Path) -> KioskError:
    """One sentence for a file that could not be written (nothing was written under its name)."""
    place = place_of(path)
    cause = cause_of(error, place)
    if cause is None or cause == Cause.CONNECTION:
        reason = getattr(error, "strerror", None) or str(error)
        return KioskError(_("Cannot write {path}: {reason}.").format(path=path, reason=reason))
    return StorageError(
        _("{path} was not written. {what}").format(path=path, what=what_to_do(cause, place)),
        cause=cause,
        place=place,
    )
