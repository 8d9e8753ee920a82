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
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once, or leave it as it was."""
    path = Path(path)
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    sync_folder(path.parent)


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    write_atomic(path, text.encode(encoding))


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
