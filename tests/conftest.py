"""Shared fixtures: real SQLite files per test, a real PostgreSQL database per test, Qt offscreen.

The demo event is generated once per session into a template file and copied for each test
that needs it, because generating it is the slowest thing most tests would do. scrypt runs at
a low work factor in the test process (see PRODUCTION_WORK_FACTORS below).

``bash scripts/test.sh`` runs the suite in two processes (pytest-xdist, ``-n 2 --dist
loadgroup``; ``KIOSK_TEST_WORKERS`` sets another number, 0 for one process). Each worker has
its own session: its own demo template and temporary folders, its own PostgreSQL databases
and roles (every name carries a random part). The tests that start many processes at once
(the concurrency and soak tests) and the ones that bound how long something takes on the LAN
are marked ``xdist_group("timing")``: one worker runs them one after another, so none of
them shares the machine with another of them (the other worker still runs alongside).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("KIOSK_DB", None)
os.environ.pop("KIOSK_PRINTER", None)  # this machine's printer settings: tests set their own
os.environ.pop("KIOSK_PRINT_COMMAND", None)
os.environ.pop("KIOSK_SLIP_PAPER", None)
# Every transaction that changes rows must append an audit record (kiosk.audit strict mode);
# set here so CLI subprocesses started by tests inherit it.
os.environ["KIOSK_AUDIT_STRICT"] = "1"
# SQLite refuses a value longer than its VARCHAR(n) as PostgreSQL does (kiosk.lengths), so the
# SQLite half of the suite catches an unbounded writer too (issue #16, symptom 12).
os.environ["KIOSK_STRICT_LENGTHS"] = "1"
# No test touches this machine's real credential store (a developer's desktop keyring): no
# store at all, as on a headless laptop; tests of kiosk.credentials set an in-memory one.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("KIOSK_CLEAR_PASSWORDS", None)

from kiosk import privacy, security
from kiosk.db import Database, open_database
from kiosk.demo import create_demo
from kiosk.i18n import set_language
from tests.keyring_support import MemoryKeyring

DEMO_DATE = date(2026, 11, 28)
PG_ADMIN_URL = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

# scrypt's work factor, in this test process only. A PIN hash (N=2**14) costs a fifth of a
# second of CPU and a passphrase key (N=2**15) twice that, on purpose: a copied database must
# not give PINs away. Every demo event hashes 48 PINs, every sign-in checks one, every unlock
# derives a key, so at the production factors the suite spent minutes of its two cores in
# scrypt proving nothing about scrypt. The factors are stored with each hash, so a hash made
# here checks at its own low cost everywhere, CLI subprocesses included; the code paths are
# the production ones. Tests about the factors themselves ask for ``production_work_factors``
# (tests/unit/kiosk/test_work_factors.py).
PRODUCTION_WORK_FACTORS = {
    security: (security.SCRYPT_N, security.SCRYPT_R, security.SCRYPT_P),
    privacy: (privacy.SCRYPT_N, privacy.SCRYPT_R, privacy.SCRYPT_P),
}
TEST_SCRYPT_N = 2**4
security.SCRYPT_N = TEST_SCRYPT_N
privacy.SCRYPT_N = TEST_SCRYPT_N


@pytest.fixture
def production_work_factors(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at the factors production uses, for the tests about them."""
    for module, (n, r, p) in PRODUCTION_WORK_FACTORS.items():
        monkeypatch.setattr(module, "SCRYPT_N", n)
        monkeypatch.setattr(module, "SCRYPT_R", r)
        monkeypatch.setattr(module, "SCRYPT_P", p)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep a module that builds a module-scoped fixture (a simulated day, an imported event)
    on one xdist worker: spread over two, each would build it, and a simulated day takes
    longer than all the module's tests. Modules already in a group keep theirs."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        if any(d.scope == "module" for defs in info.name2fixturedefs.values() for d in defs):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A working credential store for this test (in memory, tests/keyring_support.py)."""
    import keyring

    before = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    yield store
    keyring.set_keyring(before)


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """Tests read English messages unless they switch language on purpose."""
    set_language("en")
    yield
    set_language("en")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = open_database(f"sqlite:///{path}")
    create_demo(database.unit_of_work(), event_date=DEMO_DATE)
    database.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def sqlite_demo_url(demo_template: Path, tmp_path: Path) -> str:
    """The demo event in an SQLite file: for tests about the file itself (backups, disks,
    file permissions) and for the UI tests (tests/ui/conftest.py)."""
    target = tmp_path / "event.sqlite3"
    shutil.copyfile(demo_template, target)
    os.chmod(target, 0o600)  # as kiosk makes it: else each command says it tightened it
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_demo_db(sqlite_demo_url: str) -> Iterator[Database]:
    database = open_database(sqlite_demo_url)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def demo_url(request: pytest.FixtureRequest) -> str:
    """The demo event on each backend in turn, so every service and integration test runs on
    SQLite and on PostgreSQL (issue #16): SQLite enforces neither column lengths nor row
    locks, so a test that passed on it alone proved little. A test about SQLite files asks
    for ``sqlite_demo_url`` instead, and says why."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_demo_url"))
    return str(request.getfixturevalue("pg_demo_url"))


@pytest.fixture
def demo_db(demo_url: str) -> Iterator[Database]:
    database = open_database(demo_url)
    yield database
    database.dispose()


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def _pg_admin():  # type: ignore[no-untyped-def]
    try:
        import psycopg
    except ModuleNotFoundError as error:
        return None, f"psycopg is not installed ({error})"
    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=3), ""
    except psycopg.OperationalError as error:
        return None, f"PostgreSQL at {url} is not reachable: {str(error).strip()}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    admin, reason = _pg_admin()
    if admin is None:
        if os.environ.get("KIOSK_REQUIRE_PG") == "1":
            pytest.fail(f"KIOSK_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        try:
            yield f"{base}/{name}"
        finally:
            _drop_database(admin, name)


def _drop_database(admin, name: str) -> None:  # type: ignore[no-untyped-def]
    """Drop a test's database; a refusal under load ("checkpoint request failed") is tried
    again, then left: a database left behind harms no test, and the test that used it passed."""
    for attempt in range(3):
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except Exception:  # the server's words are in its log; the test is not at fault
            time.sleep(0.5 * (attempt + 1))


class _Clones:
    """Databases cloned from the demo template one step ahead of the tests, dropped behind
    them, on a thread of their own.

    Every service test runs on PostgreSQL too, each on a fresh copy of the demo event.
    ``CREATE DATABASE ... TEMPLATE`` takes about a second and ``DROP DATABASE`` two (both wait
    for the disk): done in line they would add minutes to the suite. Here the next clone is
    made, and the last one dropped, while a test runs, so a test only waits when it is faster
    than the server."""

    AHEAD = 2

    def __init__(self, template: str, owner: str = "") -> None:
        self.template = template
        # The role the clones belong to (the station suites' owner role), else the admin.
        self.owner = f' OWNER "{owner}"' if owner else ""
        self.ready: queue.Queue[str] = queue.Queue()
        self.work: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.failure: BaseException | None = None
        self.leftovers: list[str] = []
        for _ in range(self.AHEAD):
            self.work.put(("create", ""))
        self.thread = threading.Thread(target=self._run, name="pg-clones", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        admin, reason = _pg_admin()
        if admin is None:
            self.failure = RuntimeError(reason)
            self.ready.put("")
            return
        with admin:
            while (job := self.work.get()) is not None:
                kind, name = job
                if kind == "create":
                    try:
                        name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
                        admin.execute(
                            f'CREATE DATABASE "{name}"{self.owner} TEMPLATE "{self.template}"'
                        )
                        self.ready.put(name)
                    except Exception as error:  # reported by the test that waits for it
                        self.failure = error
                        self.ready.put("")
                    continue
                try:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except Exception:
                    # The server may refuse for a moment ("checkpoint request failed" under
                    # load): a database left behind harms no test, so it is tried once more
                    # at the end of the session and never fails the test that used it.
                    self.leftovers.append(name)
            for name in self.leftovers:
                with contextlib.suppress(Exception):
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def take(self) -> str:
        name = self.ready.get()
        self.work.put(("create", ""))  # the next test's, while this one runs
        if not name:
            raise AssertionError(f"cannot clone the demo database: {self.failure}")
        return name

    def give_back(self, name: str) -> None:
        self.work.put(("drop", name))

    def close(self) -> None:
        while True:
            try:
                name = self.ready.get_nowait()
            except queue.Empty:
                break
            if name:
                self.give_back(name)
        self.work.put(None)
        self.thread.join(timeout=300)


@pytest.fixture(scope="session")
def pg_demo_template(demo_template: Path) -> Iterator[str]:
    """A PostgreSQL database holding the demo event (copied once), to clone per test."""
    admin, reason = _pg_admin()
    if admin is None:
        if os.environ.get("KIOSK_REQUIRE_PG") == "1":
            pytest.fail(f"KIOSK_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    from kiosk.eventcopy import copy_event

    name = f"kiosk_demo_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            copy_event(f"sqlite:///{demo_template}", f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_demo_clones(pg_demo_template: str) -> Iterator[_Clones]:
    clones = _Clones(pg_demo_template)
    yield clones
    clones.close()  # before the template goes


@pytest.fixture
def pg_demo_url(pg_demo_clones: _Clones) -> Iterator[str]:
    """A fresh PostgreSQL database with the demo event, dropped afterwards."""
    name = pg_demo_clones.take()
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        pg_demo_clones.give_back(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_demo_url(request: pytest.FixtureRequest) -> str:
    """The demo event on each backend in turn, also in the UI tests (where ``demo_url`` is
    SQLite only): SQLite enforces neither column lengths nor some locking, so a test that
    passes on it alone proves little."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_demo_url"))
    return str(request.getfixturevalue("pg_demo_url"))


@pytest.fixture
def any_demo_db(any_demo_url: str) -> Iterator[Database]:
    database = open_database(any_demo_url)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_empty_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend in turn."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("empty_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def pg_station_roles(demo_template: Path) -> Iterator[Any]:
    """The demo event in a database made by ``kiosk db setup``'s own function (owner and
    station roles with unique names, the schema migrated by the owner, the station's grants),
    to clone per test; the roles and the database are dropped at the end of the session."""
    admin, reason = _pg_admin()
    if admin is None:
        if os.environ.get("KIOSK_REQUIRE_PG") == "1":
            pytest.fail(f"KIOSK_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    from kiosk.dbroles import role_names, setup_database, url_text
    from kiosk.eventcopy import copy_event

    name = f"kiosk_roles_{uuid.uuid4().hex[:12]}"
    with admin:
        try:
            roles = setup_database(PG_ADMIN_URL, name, station_host="127.0.0.1")
            copy_event(f"sqlite:///{demo_template}", url_text(roles.owner_url))
            yield roles
        finally:
            _drop_database(admin, name)
            for role in reversed(role_names(name)):
                with contextlib.suppress(Exception):  # a clone left behind still uses it
                    admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(scope="session")
def pg_station_clones(pg_station_roles: Any) -> Iterator[_Clones]:
    clones = _Clones(pg_station_roles.name, owner=pg_station_roles.owner)
    yield clones
    clones.close()


@pytest.fixture
def pg_station_demo_url(pg_station_roles: Any, pg_station_clones: _Clones) -> Iterator[str]:
    """A fresh copy of the demo event on PostgreSQL, connected as the stations' role: what a
    staff station on the venue LAN has (issue #29), for the suites that must need no more."""
    from kiosk.dbroles import url_text

    name = pg_station_clones.take()
    try:
        yield url_text(pg_station_roles.station_url.set(database=name))
    finally:
        pg_station_clones.give_back(name)
