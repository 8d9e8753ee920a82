"""The ledger over HTTPS (issue #22): the real uvicorn server with TLS on 127.0.0.1, a test CA
made here, the ledger on PostgreSQL and SQLite. Push and pull through the API agree with the
direct path; a push cut anywhere (the connection dropped through the TCP proxy, the client
killed) and run again leaves the ledger and the kiosk agreeing exactly; every bad input is one
sentence and nothing marked or applied."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk import privacy
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import Customer, OutboxEntry
from kiosk.services.auth import staff_session
from sync.api import openapi_text
from sync.http_ledger import HttpLedger, LedgerAnswerError, LedgerAuthError, LedgerTLSError
from sync.ledger import Account, Ledger, LedgerError
from sync.push import accounts_from_event, pending, pull, push
from tests.integration.test_sync import (
    EVENING,
    _event_code,
    _event_day,
    _kiosk_totals,
    _wait_for_the_lock,
)
from tests.ledger_http_support import Pki, make_pki, serving
from tests.tcp_proxy import LanCable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=["postgresql", "sqlite"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The reference ledger on PostgreSQL (as at a bank) and on SQLite (the demo)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(ledger_url, create=True)
    yield opened
    opened.dispose()


def _seed(db: Database, ledger: Ledger) -> str:
    """The event's accounts on the ledger and a token for the event."""
    code = _event_code(db)
    ledger.upsert_accounts(
        accounts_from_event(db, privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE)), event=code
    )
    return ledger.create_token(code)


def _client(url: str, token: str, db: Database, pki: Pki, **options: object) -> HttpLedger:
    options.setdefault("backoff", 0.02)
    return HttpLedger(
        url,
        token,
        _event_code(db),
        ca_file=str(pki.ca),
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        **options,  # type: ignore[arg-type]
    )


def _outbox(db: Database) -> list[tuple[str, str, str | None]]:
    with db.unit_of_work() as uow:
        return [
            (k, str(s), e)
            for k, s, e in uow.session.execute(
                select(OutboxEntry.idempotency_key, OutboxEntry.status, OutboxEntry.error).order_by(
                    OutboxEntry.id
                )
            )
        ]


def _agree(db: Database, ledger: Ledger, total: int, customers: int) -> None:
    """The ledger and the kiosk agree exactly: every entry once, no duplicates."""
    assert pending(db) == 0
    totals = ledger.totals()
    kiosk = _kiosk_totals(db)
    assert totals["accepted"] == kiosk["accepted"] == total
    assert totals["rejected"] == kiosk["rejected"] == 0
    assert totals["debited"] == kiosk["debited"] == customers * 2000
    with ledger.engine.connect() as connection:
        from sync.ledger import entry

        keys = list(connection.scalars(select(entry.c.idempotency_key)))
    assert len(keys) == len(set(keys)) == total
    assert set(keys) == {k for k, _s, _e in _outbox(db)}


@pytest.mark.pg
def test_push_and_pull_over_https_agree_with_the_direct_path(
    demo_db: Database, ledger: Ledger, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sync.http_ledger.PAGE", 50)  # the demo's 240 customers: 5 pages
    _event_day(demo_db, 12)
    token = _seed(demo_db, ledger)
    total = pending(demo_db)
    start = ledger.totals()["balance"]
    with serving(ledger, pki, client_certs=True) as url:
        client = _client(url, token, demo_db, pki)
        try:
            assert client.status()["api"] == "v1"
            report = push(demo_db, client, batch_size=7, clock=FixedClock(EVENING))
            assert (report.sent, report.accepted, report.batches) == (total, total, 4)
            _agree(demo_db, ledger, total, 12)
            assert ledger.totals()["balance"] == start - 12 * 2000
            # The pull reads over HTTPS exactly what it reads directly.
            with demo_db.unit_of_work() as uow:
                numbers = list(uow.session.scalars(select(Customer.customer_no)))
            day = EVENING.date()
            over_https = client.accounts(numbers, day)
            assert len(over_https) == len(numbers) > 200
            assert over_https == sorted(ledger.accounts(numbers, day), key=_number)
            assert client.points_stock(day) == ledger.points_stock(day)
            s001 = staff_session(demo_db.unit_of_work(), "S001", clock=FixedClock(EVENING))
            pulled = pull(demo_db, client, s001, clock=FixedClock(EVENING))
            assert pulled.updated == len(numbers) and pulled.missing == []
            # The OpenAPI description served is the one kept in docs/.
            served = client.client.get("/openapi.json")
            assert served.json() == json.loads((ROOT / "docs/ledger-api.json").read_text())
            assert (ROOT / "docs/ledger-api.json").read_text() == openapi_text(), (
                "docs/ledger-api.json is stale: python -m sync.api > docs/ledger-api.json"
            )
        finally:
            client.dispose()


def _number(account: Account) -> str:
    return account.customer_no


@pytest.mark.pg
def test_push_cut_at_random_points_then_run_again(pg_demo_url: str, pg_url: str, pki: Pki) -> None:
    """The connection dropped through the TCP proxy at random moments, mid-batch (before,
    while or after the ledger commits): each cut push stops with a sentence; the last one,
    on a working network, leaves the ledger and the kiosk agreeing exactly."""
    from kiosk.db import open_database

    db = open_database(pg_demo_url)
    ledger = Ledger.open(pg_url, create=True)
    try:
        _event_day(db, 40)
        token = _seed(db, ledger)
        total = pending(db)
        rng = random.Random(22)
        cuts = 0
        with serving(ledger, pki) as url:
            cable = LanCable(url)
            cable.plug()
            try:
                for _round in range(4):
                    # After a random number of answered batches, the cable is cut a random
                    # moment later: inside the next request (before, while or after the
                    # ledger commits) or between two.
                    after = rng.randint(1, 3)
                    timers: list[threading.Timer] = []

                    def cut_soon(
                        done: int,
                        _total: int,
                        after: int = after,
                        timers: list[threading.Timer] = timers,
                    ) -> None:
                        if done >= after * 3 and not timers:
                            timers.append(threading.Timer(rng.uniform(0, 0.03), cable.cut))
                            timers[0].start()

                    client = _client(cable.url, token, db, pki, tries=2, backoff=0.01)
                    try:
                        push(db, client, batch_size=3, progress=cut_soon, clock=FixedClock(EVENING))
                    except LedgerError as error:
                        assert "cannot be reached" in str(error)
                        cuts += 1
                    finally:
                        for timer in timers:
                            timer.join()
                        client.dispose()
                    cable.plug()
                assert 0 < pending(db) < total
                client = _client(cable.url, token, db, pki)
                try:
                    push(db, client, batch_size=50, clock=FixedClock(EVENING))
                finally:
                    client.dispose()
            finally:
                cable.cut()
        assert cuts == 4
        _agree(db, ledger, total, 40)
    finally:
        ledger.dispose()
        db.dispose()


def test_answers_lost_after_the_ledger_committed_are_given_again(
    sqlite_demo_db: Database, tmp_path: Path, pki: Pki
) -> None:
    """The ledger applied a batch and the answer never came back: the push sends it again and
    gets the same answers; nothing is applied twice."""
    db = sqlite_demo_db
    _event_day(db, 10)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", create=True)
    try:
        token = _seed(db, ledger)
        with serving(ledger, pki) as url:
            client = _client(url, token, db, pki)
            with db.unit_of_work() as uow:
                rows = uow.session.execute(
                    select(OutboxEntry.idempotency_key, OutboxEntry.kind, OutboxEntry.payload)
                    .order_by(OutboxEntry.id)
                    .limit(12)
                ).all()
            first = client.apply([(k, kind, json.loads(p)) for k, kind, p in rows])
            assert pending(db) == 20  # the kiosk never heard
            report = push(db, client, batch_size=5, clock=FixedClock(EVENING))
            assert client.apply([(k, kind, json.loads(p)) for k, kind, p in rows]) == first
            client.dispose()
        assert (report.sent, report.accepted) == (20, 20)
        _agree(db, ledger, 20, 10)
    finally:
        ledger.dispose()


PUSH_SCRIPT = """
import sys
from kiosk.db import open_database
from sync.http_ledger import HttpLedger
from sync.push import push
db = open_database(sys.argv[1])
ledger = HttpLedger(sys.argv[2], sys.argv[3], sys.argv[4], ca_file=sys.argv[5])
print("ready", flush=True)
push(db, ledger, batch_size=3, progress=lambda d, t: print(d, flush=True))
"""


@pytest.mark.pg
def test_a_client_killed_mid_push_then_run_again(pg_demo_url: str, pg_url: str, pki: Pki) -> None:
    from kiosk.db import open_database

    db = open_database(pg_demo_url)
    ledger = Ledger.open(pg_url, create=True)
    try:
        _event_day(db, 30)
        token = _seed(db, ledger)
        total = pending(db)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        kills = 0
        ca = [str(pki.ca)]
        with serving(ledger, pki) as url:
            for batches in (2, 3):
                process = subprocess.Popen(
                    [sys.executable, "-c", PUSH_SCRIPT, db.url, url, token, _event_code(db), *ca],
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert process.stdout is not None
                assert process.stdout.readline().strip() == "ready"
                for _ in range(batches):
                    process.stdout.readline()
                process.send_signal(signal.SIGKILL)
                process.wait()
                process.stdout.close()
                kills += 1
            assert 0 < pending(db) < total  # really cut off halfway
            _wait_for_the_lock(db)
            client = _client(url, token, db, pki)
            try:
                push(db, client, clock=FixedClock(EVENING))
            finally:
                client.dispose()
        assert kills == 2
        _agree(db, ledger, total, 30)
    finally:
        ledger.dispose()
        db.dispose()


# -- bad input: one sentence, nothing marked, nothing applied -------------------------------


class _Impostor(BaseHTTPRequestHandler):
    """A server that is not the ledger: a captive portal's HTML page, or JSON of another API."""

    body = b"<html><body>Please sign in to the hotel Wi-Fi</body></html>"
    kind = "text/html"
    status = 200

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(self.status)
        self.send_header("content-type", self.kind)
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[tuple[str, type[_Impostor]]]:
    class Handler(_Impostor):
        pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_server_that_answers_html_or_garbage(
    sqlite_demo_db: Database, impostor: tuple[str, type[_Impostor]]
) -> None:
    db = sqlite_demo_db
    _event_day(db, 3)
    before = _outbox(db)
    url, handler = impostor
    client = HttpLedger(url, "a.b", _event_code(db), backoff=0.01)
    try:
        with pytest.raises(LedgerAnswerError, match=r"not the ledger's API \(text/html\)"):
            push(db, client, clock=FixedClock(EVENING))
        handler.kind, handler.body = "application/json", b"{not json"
        with pytest.raises(LedgerAnswerError, match=r"not the ledger's API \(not JSON\)"):
            push(db, client, clock=FixedClock(EVENING))
        handler.body = b'{"outcomes": [{"key": "other", "status": "accepted"}]}'
        with pytest.raises(LedgerAnswerError, match=r"not the ledger's API \(outcomes\)"):
            push(db, client, clock=FixedClock(EVENING))
        handler.body = b'{"outcomes": "yes"}'
        with pytest.raises(LedgerAnswerError, match=r"\(outcomes\)"):
            push(db, client, clock=FixedClock(EVENING))
        handler.status, handler.kind, handler.body = 502, "text/html", b"<h1>Bad gateway</h1>"
        started = time.monotonic()
        with pytest.raises(LedgerError, match=r"cannot be reached after 5 tries: HTTP 502"):
            push(db, client, clock=FixedClock(EVENING))
        assert time.monotonic() - started >= 0.01 + 0.02 + 0.04 + 0.08  # backed off
        handler.status = 404
        with pytest.raises(LedgerAnswerError, match=r"\(HTTP 404\)"):
            push(db, client, clock=FixedClock(EVENING))
    finally:
        client.dispose()
    assert _outbox(db) == before  # nothing marked


def test_wrong_token_other_event_and_revoked(
    sqlite_demo_db: Database, tmp_path: Path, pki: Pki
) -> None:
    db = sqlite_demo_db
    _event_day(db, 3)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", create=True)
    try:
        token = _seed(db, ledger)
        other = ledger.create_token("OTHER")
        before = _outbox(db)
        with serving(ledger, pki) as url:
            for presented, error, sentence in (
                ("nope", LedgerAuthError, r"refused the token \(The token is unknown"),
                (token.split(".")[0] + ".wrong", LedgerAuthError, "unknown, wrong or revoked"),
                (other, LedgerAuthError, "This token is for event OTHER, not for event"),
            ):
                client = _client(url, presented, db, pki)
                try:
                    with pytest.raises(error, match=sentence):
                        push(db, client, clock=FixedClock(EVENING))
                finally:
                    client.dispose()
            client = _client(url, other, db, pki)
            with pytest.raises(LedgerAuthError, match="token is for event OTHER, but this is"):
                client.status()
            client.dispose()
            # An entry of another event inside an otherwise good batch: the batch is refused.
            client = _client(url, token, db, pki)
            with pytest.raises(LedgerAuthError, match="Entry 2 is for event X, not for"):
                client.apply([("a:1", "check_in", {}), ("a:2", "check_in", {"event": "X"})])
            # A payload the ledger cannot read: refused (never tried again), nothing applied.
            with pytest.raises(LedgerError, match="payload lacks a field"):
                client.apply([("a:3", "slip_redeemed", {"serial": 1})])
            client.dispose()
            assert ledger.revoke_token(token)
            client = _client(url, token, db, pki)
            with pytest.raises(LedgerAuthError, match="unknown, wrong or revoked"):
                push(db, client, clock=FixedClock(EVENING))
            client.dispose()
        assert _outbox(db) == before
        assert ledger.totals()["accepted"] == ledger.totals()["rejected"] == 0
    finally:
        ledger.dispose()


def test_certificates_unknown_expired_or_refused(
    sqlite_demo_db: Database, tmp_path: Path, pki: Pki
) -> None:
    db = sqlite_demo_db
    _event_day(db, 3)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", create=True)
    code = _event_code(db)
    try:
        token = _seed(db, ledger)
        before = _outbox(db)

        def refused(url: str, sentence: str, **options: object) -> None:
            options.setdefault("ca_file", str(pki.ca))
            with pytest.raises(LedgerTLSError, match=sentence):
                client = HttpLedger(url, token, code, backoff=0.01, **options)  # type: ignore[arg-type]
                try:
                    push(db, client, clock=FixedClock(EVENING))
                finally:
                    client.dispose()

        with serving(ledger, pki, client_certs=True) as url:
            # The ledger's CA is not given: the system's CAs do not know it.
            refused(url, "certificate verify failed|self-signed certificate", ca_file=None)
            refused(url, "self-signed certificate", ca_file=str(pki.other_ca))
            # No client certificate, or one from another CA: the service closes the connection.
            refused(url, "refuses this laptop's client certificate")
            refused(
                url,
                "refuses this laptop's client certificate",
                client_cert=str(pki.stranger_cert),
                client_key=str(pki.stranger_key),
            )
            refused(
                url,
                r"client certificate .*expired_client.pem expired on",
                client_cert=str(pki.expired_client_cert),
                client_key=str(pki.expired_client_key),
            )
            # The service itself refuses the expired one too (the kiosk's own check aside).
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("sync.http_ledger._check_not_expired", lambda _path: None)
                refused(
                    url,
                    "refuses this laptop's client certificate",
                    client_cert=str(pki.expired_client_cert),
                    client_key=str(pki.expired_client_key),
                )
        with serving(ledger, pki, expired=True) as url:
            refused(url, "failed: certificate has expired")
        assert _outbox(db) == before
        assert ledger.totals()["accepted"] == 0
    finally:
        ledger.dispose()


def test_the_commands(sqlite_demo_db: Database, tmp_path: Path, pki: Pki) -> None:
    """kiosk ledger token prints a token once; kiosk sync push --ledger https://… takes it
    from KIOSK_LEDGER_TOKEN; a database URL still works and says it is for rehearsals;
    kiosk ledger serve refuses plain HTTP without --insecure-http."""
    db = sqlite_demo_db
    _event_day(db, 3)
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    env = {**os.environ, "KIOSK_LANG": "en", "KIOSK_DB": db.url}
    env.pop("KIOSK_LEDGER_TOKEN", None)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kiosk, *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    seeded = run("ledger", "seed", "--url", ledger_url, KIOSK_PASSPHRASE=DEMO_PASSPHRASE)
    assert seeded.returncode == 0, seeded.stderr
    made = run("ledger", "token", "--url", ledger_url, "--event", _event_code(db))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert "shown once" in made.stderr and "." in token
    refused = run("ledger", "serve", "--url", ledger_url)
    assert refused.returncode == 1 and "HTTPS only" in refused.stderr
    ledger = Ledger.open(ledger_url)
    try:
        with serving(ledger, pki) as url:
            no_token = run("sync", "push", "--ledger", url, "--ca-file", str(pki.ca))
            assert no_token.returncode == 1
            assert "Set KIOSK_LEDGER_TOKEN" in no_token.stderr
            pushed = run(
                "sync", "push", "--ledger", url, "--ca-file", str(pki.ca), KIOSK_LEDGER_TOKEN=token
            )
            assert pushed.returncode == 0, pushed.stderr
            assert "6 entries pushed: 6 accepted" in pushed.stdout
            assert "rehearsals" not in pushed.stderr
            pulled = run(
                "sync",
                "pull",
                "--ledger",
                url,
                "--ca-file",
                str(pki.ca),
                "--staff",
                "S001",
                KIOSK_LEDGER_TOKEN=token,
                KIOSK_PIN="1234",
            )
            assert pulled.returncode == 0, pulled.stderr
            assert "240 customers refreshed from the ledger" in pulled.stdout
            # As the app's background push runs it: no options, all from the environment.
            background = run(
                "sync",
                "push",
                "--progress-lines",
                KIOSK_LEDGER=url,
                KIOSK_LEDGER_CA=str(pki.ca),
                KIOSK_LEDGER_TOKEN=token,
            )
            assert background.returncode == 0, background.stderr
            assert background.stderr == ""
            no_ca = run("sync", "push", "--ledger", url, KIOSK_LEDGER_TOKEN=token)
            assert no_ca.returncode == 1 and "--ca-file" in no_ca.stderr
            assert len(no_ca.stderr.strip().splitlines()) == 1
        direct = run("sync", "push", "--ledger", ledger_url)
        assert direct.returncode == 0
        assert "for rehearsals and the demo only" in direct.stderr
        revoked = run("ledger", "token", "--url", ledger_url, "--revoke", token.split(".")[0])
        assert revoked.returncode == 0 and ledger.token_event(token) is None
    finally:
        ledger.dispose()
    assert pending(db) == 0
