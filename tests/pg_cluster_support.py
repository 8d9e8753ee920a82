"""A throwaway PostgreSQL cluster of the test's own (initdb and pg_ctl on a free port).

For what the shared server at 127.0.0.1:5432 cannot be made to do: serve TLS with a
certificate the test made, change it, turn TLS off, require it in pg_hba.conf. The cluster
lives in a temporary folder owned by the ``postgres`` OS user (initdb refuses to run as root,
and CI runs as root), listens on 127.0.0.1 and a socket in that folder only, runs without
fsync (a test's data need not survive a power cut), and is stopped and removed by ``stop``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

SERVER_USER = "postgres"


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: ``KIOSK_PG_BIN``, else the newest /usr/lib/postgresql/*."""
    env = os.environ.get("KIOSK_PG_BIN", "").strip()
    candidates = [env] if env else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def need_tools() -> Path:
    """The tools' folder, or skip (fail under KIOSK_REQUIRE_PG=1) saying what is missing."""
    folder = bin_dir()
    reason = "initdb and pg_ctl were not found (set KIOSK_PG_BIN to their folder)"
    if folder is None or (os.geteuid() == 0 and not _has_user(SERVER_USER)):
        if folder is not None:
            reason = f"running as root and there is no {SERVER_USER!r} user to run initdb"
        if os.environ.get("KIOSK_REQUIRE_PG") == "1":
            pytest.fail(f"KIOSK_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    return folder


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """One cluster: ``start``, change its files and ``reload``, ``stop`` (always)."""

    def __init__(self, tools: Path) -> None:
        self.tools = tools
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            entry = pwd.getpwnam(SERVER_USER)
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
            os.chown(self.root, self.uid, self.gid)
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()
        os.chmod(self.root, 0o700)

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """A server tool, run as the server's user; its output goes into the failure."""
        argv = [str(self.tools / command[0]), *command[1:]]
        if self.as_root:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise AssertionError(
                f"{command[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{self.log()}"
            )
        return result

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def give(self, source: Path, name: str, mode: int = 0o600) -> Path:
        """Copy ``source`` into the data folder as ``name``, owned by the server's user (where
        a file name without a folder in postgresql.conf is looked for)."""
        target = self.data / name
        shutil.copyfile(source, target)
        os.chown(target, self.uid, self.gid)
        os.chmod(target, mode)
        return target

    def init(self, conf: list[str], hba: list[str]) -> None:
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SERVER_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        with open(self.data / "postgresql.conf", "a") as main:
            main.write("\ninclude 'kiosk_test.conf'\n")
        self.write_conf(conf)
        self.write_hba(hba)

    def write_conf(self, lines: list[str]) -> None:
        """Replace what this cluster adds to postgresql.conf (kiosk_test.conf, included)."""
        base = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.root}'",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_buffers = 16MB",
            "max_connections = 30",
        ]
        self._write_owned(self.data / "kiosk_test.conf", [*base, *lines])

    def write_hba(self, lines: list[str]) -> None:
        self._write_owned(self.data / "pg_hba.conf", ["local all all trust", *lines])

    def _write_owned(self, path: Path, lines: list[str]) -> None:
        path.write_text("\n".join(lines) + "\n")
        os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o600)

    def start(self) -> None:
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def reload(self, applied: Callable[[], bool], what: str) -> None:
        """Reload the configuration and wait until ``applied()`` says the server uses it."""
        self.run("pg_ctl", "-D", str(self.data), "reload")
        deadline = time.monotonic() + 20
        while not applied():
            if time.monotonic() > deadline:
                raise AssertionError(f"the cluster did not take up {what}:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            if (self.data / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
