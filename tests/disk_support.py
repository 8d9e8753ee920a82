"""A real small filesystem to fill up: a tmpfs mounted for a test (root only, else skip)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class SmallDisk:
    path: Path

    @property
    def filler(self) -> Path:
        return self.path / ".filler"

    def free(self) -> int:
        return shutil.disk_usage(self.path).free

    def fill(self, leave: int) -> None:
        """Leave ``leave`` bytes free (rounded to the filesystem's pages)."""
        self.empty()
        with open(self.filler, "wb") as file:
            file.write(b"\0" * max(0, self.free() - leave))

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)


def mount_tmpfs(path: Path, size: str, options: str = "") -> SmallDisk:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "these tests fill a small tmpfs, which only root may mount here: "
            + (mounted.stderr.strip() or "mount failed")
        )
    return SmallDisk(path)


def unmount(disk: SmallDisk) -> None:
    # Lazily: a connection a failed test left open must not keep the mount busy.
    subprocess.run(["umount", "-l", str(disk.path)], capture_output=True, check=False)
