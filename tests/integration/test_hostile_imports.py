"""Hostile files imported into real databases (issue #26): refused in one sentence naming the
file, and nothing changed; on SQLite and PostgreSQL.

The parse-level fuzz (tests/unit/kiosk/test_hostile_files.py) reads 10,000 mutants per kind;
here fewer mutants of a genuine file go all the way: a bundle a booth exported, imported into
the event database; a register imported into the next event's; a pack installed on a booth
(an SQLite file, as a booth always is); a batch applied to a ledger. Half the mutations made on
the parsed document are sealed again (a booth holds its merchant's secret), so they reach the
import's own checks and queries.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, inspect, select, text

from kiosk.booth_laptop.booth import Booth
from kiosk.boundedjson import naming
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.merchant_pack import PackError
from kiosk.models import Merchant
from kiosk.redemption_bundle import BundleError
from kiosk.register_file import RegisterError, fingerprint, public_hex
from kiosk.services import merchant_review as review
from kiosk.services.auth import staff_session
from kiosk.services.booths import import_bundle
from sync import batch as B
from sync.ledger import Ledger
from tests.booth_support import MORNING, issue, new_booth, pack_bytes, supervisor
from tests.hostile_support import (
    SeedFile,
    batch_seed,
    check_refusal,
    mutants,
    pack_seed,
    register_seed,
    with_bundle_secret,
)

ATTEMPTS = 60  # per kind and database: each is a whole import, with the database compared
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _state(engine: Engine) -> str:
    """Every row of every table, as one digest: equal before and after a refused import."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            digest.update(table.encode())
            for row in sorted(repr(tuple(row)) for row in rows):
                digest.update(row.encode())
    return digest.hexdigest()


def _attempts(
    seed: SeedFile,
    kind: type[Exception],
    engine: Engine,
    attempt: Callable[[bytes], Any],
    salt: str,
    n: int = ATTEMPTS,
) -> dict[str, int]:
    """Import ``n`` mutants of ``seed``; each refusal a sentence naming the file, with the
    database unchanged. Counts of what happened."""
    rng = random.Random(f"issue-26-import-{salt}")
    counts = {"refused": 0, "imported": 0}
    before = _state(engine)
    for data in mutants(seed, rng, n):
        try:
            with naming("hostile.json", kind):
                attempt(data)
        except Exception as refused:  # everything but the kind's sentence fails here
            check_refusal(refused, kind, data)
            assert str(refused).startswith("hostile.json"), str(refused)  # the file named
            assert _state(engine) == before, f"{str(refused)[:200]} changed the database"
            counts["refused"] += 1
        else:
            counts["imported"] += 1
            before = _state(engine)
    return counts


def test_hostile_bundles_are_refused_and_change_nothing(demo_db: Database, tmp_path: Path) -> None:
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    for code in issue(demo_db, ["O101", "O102", "O101"]):
        booth.redeem(code, "李四")
    data, count = booth.bundle()
    assert count == 3
    with demo_db.unit_of_work() as uow:
        secret = uow.session.scalar(select(Merchant.bundle_secret).where(Merchant.code == "M01"))
    assert secret
    s001 = supervisor(demo_db)
    clock = FixedClock(MORNING)

    def attempt(data: bytes) -> None:
        import_bundle(demo_db.unit_of_work(), data, s001, clock=clock)

    counts = _attempts(with_bundle_secret(data, secret), BundleError, demo_db.engine, attempt, "b")
    assert counts["refused"] > ATTEMPTS // 2, counts


def test_hostile_registers_are_refused_and_change_nothing(demo_db: Database) -> None:
    seed = register_seed(KEY)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=FixedClock(MORNING))
    trust = fingerprint(public_hex(KEY))
    clock = FixedClock(MORNING)
    review.import_register(demo_db.unit_of_work(), seed.data, s001, trust=trust, clock=clock)

    def attempt(data: bytes) -> None:
        review.import_register(demo_db.unit_of_work(), data, s001, trust=trust, clock=clock)

    counts = _attempts(seed, RegisterError, demo_db.engine, attempt, "r")
    assert counts["refused"] > ATTEMPTS // 2, counts


def test_hostile_pack_updates_are_refused_and_change_nothing(tmp_path: Path) -> None:
    """A booth with a pack of KEY's: updates sealed by KEY get past the signature."""
    booth: Booth = new_booth(tmp_path / "booth.sqlite3")
    seed = pack_seed(KEY)
    booth.install(seed.data)
    counts = _attempts(seed, PackError, booth.database.engine, booth.install, "p", n=200)
    assert counts["refused"] > 100, counts


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    opened = Ledger.open(url, create=True)
    yield opened
    opened.dispose()


def test_hostile_batches_are_refused_and_change_nothing(ledger: Ledger, tmp_path: Path) -> None:
    seed = batch_seed(KEY)
    path, answers = tmp_path / "hostile.json", tmp_path / "answers.json"
    trust = B.fingerprint(bytes.fromhex(public_hex(KEY)))

    def attempt(data: bytes) -> None:
        path.write_bytes(data)
        answers.unlink(missing_ok=True)
        try:
            B.apply_batch(ledger, path, answers, trust=trust)
        except B.BatchError:
            assert not answers.exists()  # no answer file for a refused batch
            raise

    counts = _attempts(seed, B.BatchError, ledger.engine, attempt, "t")
    assert counts["refused"] > ATTEMPTS // 2, counts
