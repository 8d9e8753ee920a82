"""Signing in must never deadlock with another laptop's audited write (PostgreSQL).

Found by the soak (benchmarks/soak.py) on PostgreSQL: a sign-in locked its staff row ``FOR
UPDATE`` and then waited for the audit chain's advisory lock, while another station held that
lock and inserted an audit record naming the same staff member; the foreign-key check of that
insert takes ``FOR KEY SHARE`` on the staff row, which ``FOR UPDATE`` blocks. PostgreSQL broke
the cycle by failing one of them ("another station changed the same record"). The sign-in
now locks the row ``FOR NO KEY UPDATE``, which a foreign-key check does not wait for.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.services import auth
from kiosk.services.booths import export_pack

pytestmark = pytest.mark.pg

NOW = datetime(2026, 11, 28, 1, 5, tzinfo=UTC)


def test_a_sign_in_and_an_audited_write_by_the_same_staff_both_go_through(
    pg_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = open_database(pg_demo_url)
    clock = FixedClock(NOW)
    supervisor = auth.staff_session(database.unit_of_work(), "S001", clock=clock)
    holding, release = threading.Event(), threading.Event()
    real_verify = auth.verify_pin

    def slow_verify(pin: str, pin_hash: str) -> bool:
        holding.set()  # the staff row is locked now, as while scrypt checks a PIN
        release.wait(10)
        return real_verify(pin, pin_hash)

    monkeypatch.setattr(auth, "verify_pin", slow_verify)
    outcome: dict[str, object] = {}

    def laptop_b() -> None:
        try:
            outcome["b"] = auth.sign_in(
                database.unit_of_work(), "S001", "1234", station="laptop-b", clock=clock
            )
        except Exception as error:
            outcome["b"] = error

    thread = threading.Thread(target=laptop_b)
    thread.start()
    assert holding.wait(10)
    # Laptop A: S001 exports a merchant pack meanwhile; its only row naming S001 is the audit
    # record, inserted under the audit chain's lock. Laptop B finishes its PIN check half a
    # second later and appends its own audit record.
    threading.Timer(0.5, release.set).start()
    data, _pack = export_pack(
        database.unit_of_work(), "M01", DEMO_PASSPHRASE, supervisor, clock=clock
    )
    thread.join(20)
    assert not thread.is_alive()
    assert isinstance(outcome["b"], auth.StaffSession), outcome["b"]
    assert data
    database.dispose()
