"""Writing a file so that its name never points at half of it.

A laptop that loses power, a pulled USB stick or a full disk must not leave a truncated PDF,
bundle or state file under the name a person or a print command will pick up. So a file is
written to a temporary name in the same folder, flushed to the disk, and only then renamed
over the final name (an atomic step on the same filesystem); on any failure the temporary
file is removed and the error goes on to the caller.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PARTIAL_SUFFIX = ".part"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def partial_name(path: Path) -> str:
    """The prefix of ``path``'s temporary files: hidden, and never the final name."""
    return f".{path.name}."


def write_atomic(path: Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` all at once, or leave it as it was."""
    with atomic_file(path) as file:
        file.write(data)
    return Path(path)


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return write_atomic(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s content into; it becomes ``path`` when the block
    ends without an error (flushed, fsynced, renamed), else it is removed."""
    with atomic_path(path) as partial, open(partial, "wb") as file:
        yield file
        file.flush()
        os.fsync(file.fileno())


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary name in ``path``'s folder for a tool that writes a file by name itself
    (``VACUUM INTO``, ``pg_dump --file``, openpyxl, reportlab): when the block ends without an
    error the file is fsynced and renamed to ``path``; on any error it is removed and
    ``path`` stays as it was (absent, or the previous complete version)."""
    path = Path(path)
    descriptor, name = tempfile.mkstemp(
        prefix=partial_name(path), suffix=PARTIAL_SUFFIX, dir=path.parent
    )
    os.close(descriptor)
    partial = Path(name)
    try:
        os.chmod(partial, 0o666 & ~_UMASK)  # as an ordinary new file: mkstemp makes it 0600
        yield partial
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
