"""Writing a file so that its name never points at half of it.

A laptop that loses power, a pulled USB stick or a full disk must not leave a truncated PDF,
bundle or state file under the name a person or a print command will pick up. So a file is
written to a temporary name in the same folder, flushed to the disk, and only then renamed
over the final name (an atomic step on the same filesystem); on any failure the temporary
file is removed and the error goes on to the caller.

Private files (issue #29): what holds customers' data or the event's secrets (the event and
booth databases, backups, the spool of printed slips, the app's data folder) is created 0600
in 0700 folders on Linux and macOS, so no other local account reads it; an existing looser
one is tightened when it is opened, with a note (``take_notes``). On Windows the per-user
profile already keeps the data folder to its owner and POSIX modes mean little: no chmod.
A file written by ``write_atomic`` into a private folder is private itself; elsewhere (a
report saved to the desktop) it is an ordinary file, as the umask says.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kiosk.i18n import _
from kiosk.logs import get_logger

PARTIAL_SUFFIX = ".part"
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
# Windows: the per-user profile protects the data folder; os.chmod there only sets read-only.
POSIX_MODES = os.name != "nt"

log = get_logger(__name__)
_notes: list[str] = []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def partial_name(path: Path) -> str:
    """The prefix of ``path``'s temporary files: hidden, and never the final name."""
    return f".{path.name}."


def write_atomic(
    path: Path, data: bytes, *, private: bool | None = None, durable: bool = True
) -> Path:
    """Replace ``path`` with ``data`` all at once, or leave it as it was (``private`` and
    ``durable``: see ``atomic_path``)."""
    with atomic_file(path, private=private, durable=durable) as file:
        file.write(data)
    return Path(path)


def write_text_atomic(
    path: Path, text: str, encoding: str = "utf-8", *, private: bool | None = None
) -> Path:
    return write_atomic(path, text.encode(encoding), private=private)


@contextlib.contextmanager
def atomic_file(
    path: Path, *, private: bool | None = None, durable: bool = True
) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s content into; it becomes ``path`` when the block
    ends without an error (closed, fsynced by ``atomic_path``, renamed), else it is removed.
    Not fsynced here as well: ``atomic_path`` syncs the closed file, and a second fsync of
    the same data cost every PDF a millisecond or more (issue #23)."""
    with (
        atomic_path(path, private=private, durable=durable) as partial,
        open(partial, "wb") as file,
    ):
        yield file


@contextlib.contextmanager
def atomic_path(path: Path, *, private: bool | None = None, durable: bool = True) -> Iterator[Path]:
    """A temporary name in ``path``'s folder for a tool that writes a file by name itself
    (``VACUUM INTO``, ``pg_dump --file``, openpyxl, reportlab): when the block ends without an
    error the file is fsynced and renamed to ``path``; on any error it is removed and
    ``path`` stays as it was (absent, or the previous complete version).

    ``private``: True makes the file 0600 (a backup), False an ordinary file (0666 less the
    umask), None (the default) private exactly when its folder is (``is_private_folder``):
    a slip spooled in the app's 0700 spool folder is 0600, a report saved to the desktop is
    not. A tool that writes the file by name keeps the mode of the file it is given.

    ``durable``: False leaves out the fsyncs of the file and its folder. The rename still
    makes the file appear whole or not at all while the machine runs; only a power cut may
    lose it. For a file made again from the database when lost (a slip's PDF, spooled and
    printed at once), where the fsyncs were a fifth of the slip's time at the desk."""
    path = Path(path)
    descriptor, name = tempfile.mkstemp(
        prefix=partial_name(path), suffix=PARTIAL_SUFFIX, dir=path.parent
    )
    os.close(descriptor)
    partial = Path(name)
    try:
        if private is None:
            private = is_private_folder(path.parent)
        if not private:
            os.chmod(partial, 0o666 & ~_UMASK)  # as an ordinary new file: mkstemp makes it 0600
        yield partial
        if durable:
            # The tool may have replaced the file by its own rename: sync what is there now.
            with open(partial, "rb+") as file:
                os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        if isinstance(error, OSError) and error.filename in (None, str(partial), partial):
            error.filename = str(path)  # the file meant, for the message: not the temporary one
        raise
    if durable:
        sync_folder(path.parent)


def leftovers(folder: Path) -> list[Path]:
    """Temporary files of atomic writes left in ``folder`` (by a power cut mid-write)."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(PARTIAL_SUFFIX)
    )


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


# -- private files and folders (issue #29) ----------------------------------------------------


def is_private_folder(folder: Path) -> bool:
    """Only its owner can enter ``folder`` (no group or other bits; never on Windows)."""
    if not POSIX_MODES:
        return False
    try:
        return os.stat(folder).st_mode & 0o077 == 0
    except OSError:
        return False


def take_notes() -> list[str]:
    """The sentences about files tightened since the last call, for the command line or the
    window to say (each is in the log already)."""
    taken = list(_notes)
    _notes.clear()
    return taken


def tighten(path: Path, mode: int) -> bool:
    """Give ``path`` the private ``mode`` if anyone but its owner may read it; True when it
    was tightened (and a note kept). Not ours (another account's), gone, or on a file system
    without modes (a FAT USB stick, Windows): left as it is, False."""
    if not POSIX_MODES:
        return False
    try:
        status = os.stat(path)
        if status.st_mode & 0o077 == 0 or status.st_uid != os.getuid():
            return False
        os.chmod(path, mode)
        if os.stat(path).st_mode & 0o077:  # a file system that ignores modes
            return False
    except OSError:
        return False
    note = _(
        "The permissions of {path} were tightened so that only this account can read and write it."
    ).format(path=path)
    log.warning("%s", note)
    _notes.append(note)
    return True


def private_folder(folder: Path, *, tighten_existing: bool = True) -> Path:
    """``folder``, created 0700 if missing (its missing parents as ordinary folders); an
    existing one is tightened unless ``tighten_existing`` is False (a folder the user chose
    that may hold other things: their files stay private on their own). Raises ``OSError``."""
    folder = Path(folder)
    if not POSIX_MODES:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # made meanwhile: tightened below
            folder.mkdir(mode=PRIVATE_FOLDER)
            return folder
        if not folder.is_dir():  # a file of that name: never "tighten" it into 0700
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    if tighten_existing:
        tighten(folder, PRIVATE_FOLDER)
    return folder


def private_file(path: Path) -> Path:
    """``path`` created empty and 0600 if missing, so the tool that opens it next (SQLite,
    which gives its -wal and -shm files the database file's mode) keeps it private; an
    existing one is tightened."""
    path = Path(path)
    if not POSIX_MODES:
        return path
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        tighten(path, PRIVATE_FILE)
    else:
        os.close(descriptor)
    return path
