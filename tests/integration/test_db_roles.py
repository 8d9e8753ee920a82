"""The event database's roles on the venue LAN (issue #29), on the real PostgreSQL.

The roles are made by ``kiosk.dbroles.setup_database``, the function ``kiosk db setup`` runs
(the session fixture ``pg_station_roles`` in tests/conftest.py, with unique role names, dropped
at the end); each test gets its own clone of the demo event. What a station must not do is
tried as the station, straight with psycopg (what anyone at a station could do with psql) and
through the application (which must say it in words).
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509
from sqlalchemy import delete, make_url, update

from cli.main import main
from kiosk.db import open_database
from kiosk.dbroles import (
    INSERT_ONLY,
    Privilege,
    apply_grants,
    prepare_upgrade,
    role_names,
    url_text,
)
from kiosk.errors import DatabaseAccountTooWeak, DatabaseError
from kiosk.i18n import set_language
from kiosk.models import AuditRecord, JournalEntry, Redemption
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.pg


def _as(url: str, database: str | None = None) -> psycopg.Connection[Any]:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return psycopg.connect(url_text(parsed), autocommit=True)


def _admin(database: str) -> psycopg.Connection[Any]:
    return _as(PG_ADMIN_URL, database)


@pytest.fixture
def station_url(pg_station_demo_url: str) -> str:
    return pg_station_demo_url


@pytest.fixture
def owner_url(pg_station_roles: Any, station_url: str) -> str:
    """The same clone, as its owner (the coordinator's laptop)."""
    name = make_url(station_url).database
    return url_text(pg_station_roles.owner_url.set(database=name))


def _refused(connection: psycopg.Connection[Any], sql: str) -> str:
    """Run ``sql``; it must fail for want of a privilege (or ownership). Its message."""
    with pytest.raises(psycopg.Error) as caught:
        connection.execute(sql)
    assert caught.value.sqlstate in ("42501",), (sql, caught.value.sqlstate, caught.value)
    return str(caught.value)


# -- what the set-up made ------------------------------------------------------------------------


def test_setup_makes_an_owner_and_a_station_that_owns_nothing(pg_station_roles: Any) -> None:
    owner, station = role_names(pg_station_roles.name)
    with _admin(pg_station_roles.name) as admin:
        for role in (owner, station):
            flags = admin.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles "
                "WHERE rolname = %s",
                (role,),
            ).fetchone()
            assert flags == (False, False, False, True), role
        assert admin.execute(
            "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone() == (owner, "UTF8")
        owners = set(
            r[0]
            for r in admin.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        )
        assert owners == {owner}
        assert admin.execute(
            "SELECT has_schema_privilege(%(s)s, 'public', 'CREATE'),"
            " has_database_privilege(%(s)s, current_database(), 'CREATE'),"
            " has_database_privilege('public', current_database(), 'CONNECT'),"
            " has_database_privilege(%(s)s, current_database(), 'CONNECT')",
            {"s": station},
        ).fetchone() == (False, False, False, True)
        for table, columns in INSERT_ONLY.items():
            granted = admin.execute(
                "SELECT has_table_privilege(%(s)s, %(t)s, 'INSERT'),"
                " has_table_privilege(%(s)s, %(t)s, 'UPDATE'),"
                " has_table_privilege(%(s)s, %(t)s, 'DELETE'),"
                " has_table_privilege(%(s)s, %(t)s, 'TRUNCATE')",
                {"s": station, "t": table},
            ).fetchone()
            assert granted == (True, False, False, False), table
            updatable = set(
                r[0]
                for r in admin.execute(
                    "SELECT column_name FROM information_schema.column_privileges WHERE "
                    "grantee = %s AND table_name = %s AND privilege_type = 'UPDATE'",
                    (station, table),
                ).fetchall()
            )
            assert updatable == set(columns), table
        assert admin.execute("SELECT station_role FROM database_access").fetchone()[0] == station


# -- the station, straight at the database -------------------------------------------------------


@pytest.mark.parametrize("table", sorted(INSERT_ONLY))
def test_the_station_cannot_update_or_delete_evidence(station_url: str, table: str) -> None:
    with _as(station_url) as station:
        assert station.execute(f"SELECT count(*) FROM {table}").fetchone()[0] is not None
        _refused(station, f"DELETE FROM {table}")
        _refused(station, f"UPDATE {table} SET id = id")
        _refused(station, f"TRUNCATE {table}")


def test_the_station_cannot_change_the_schema(station_url: str) -> None:
    with _as(station_url) as station:
        _refused(station, "CREATE TABLE stolen (x int)")
        _refused(station, "DROP TABLE customer")
        _refused(station, "ALTER TABLE customer ADD COLUMN x int")
        _refused(station, "TRUNCATE customer")
        _refused(station, "DROP TABLE journal_entry")
        _refused(station, "UPDATE alembic_version SET version_num = 'x'")
        _refused(station, "DELETE FROM database_access")
        # The event's ON DELETE CASCADE would reach the journal as the owner: no DELETE.
        _refused(station, "DELETE FROM event")
        _refused(station, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        _refused(station, "DROP TRIGGER insert_only ON journal_entry")


def test_the_station_may_record_delivery_state_and_nothing_else(station_url: str) -> None:
    with _as(station_url) as station:
        station.execute(
            "INSERT INTO journal_entry (event_id, customer_id, kind, points, at, staff_id) "
            "SELECT e.id, c.id, 'reserve', 1, now(), s.id FROM event e, customer c, staff s "
            "LIMIT 1"
        )
        settled = station.execute(
            "UPDATE journal_entry SET settled_at = now() WHERE settled_at IS NULL"
        ).rowcount
        assert settled > 0
        station.execute(
            "INSERT INTO outbox_entry (event_id, idempotency_key, kind, payload, sealed, "
            "created_at, status) SELECT id, 'test-roles-1', 'test', '{}', false, now(), "
            "'pending' FROM event LIMIT 1"
        )
        pushed = station.execute(
            "UPDATE outbox_entry SET status = 'accepted', pushed_at = now(), error = NULL "
            "WHERE idempotency_key = 'test-roles-1'"
        ).rowcount
        assert pushed == 1
        _refused(station, "UPDATE journal_entry SET points = points + 1")
        _refused(station, "UPDATE outbox_entry SET payload = '{}'")


def test_the_trigger_refuses_even_a_privilege_granted_by_mistake(
    pg_station_roles: Any, station_url: str, owner_url: str
) -> None:
    """A later GRANT (by hand, or a migration's mistake) does not open the evidence tables."""
    name = make_url(station_url).database
    with _admin(str(name)) as admin:
        # A row in every table, so a row trigger has something to refuse.
        for sql in (
            "INSERT INTO journal_entry (event_id, customer_id, kind, points, at, staff_id) "
            "SELECT e.id, c.id, 'reserve', 1, now(), s.id FROM event e, customer c, staff s "
            "LIMIT 1",
            "INSERT INTO journal_lot (journal_entry_id, lot_id, points) "
            "SELECT j.id, l.id, 1 FROM journal_entry j, points_lot l LIMIT 1",
            "INSERT INTO redemption (uid, event_id, slip_serial, merchant_id, booth_id, "
            "booth_seq, redeemed_at, staff_name, received_at) SELECT 'test-roles', e.id, 1, "
            "m.id, 'booth', 1, now(), '', now() FROM event e, merchant m LIMIT 1",
            "INSERT INTO outbox_entry (event_id, idempotency_key, kind, payload, sealed, "
            "created_at, status) SELECT id, 'test-roles-2', 'test', '{}', false, now(), "
            "'pending' FROM event LIMIT 1",
        ):
            admin.execute(sql)
        for table in INSERT_ONLY:
            assert admin.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
        admin.execute(
            f"GRANT UPDATE, DELETE, TRUNCATE ON {', '.join(INSERT_ONLY)} "
            f'TO "{pg_station_roles.station}"'
        )
    with _as(station_url) as station:
        for table in INSERT_ONLY:
            assert "insert-only" in _refused(station, f"DELETE FROM {table}")
            assert "insert-only" in _refused(station, f"UPDATE {table} SET id = -id")
            assert "insert-only" in _refused(station, f"TRUNCATE {table} CASCADE")
        assert "insert-only" in _refused(station, "UPDATE journal_entry SET points = points + 1")
        # Delivery state alone still passes.
        station.execute("UPDATE journal_entry SET settled_at = now()")
    # The owner (the coordinator after the event) passes the trigger.
    with _as(owner_url) as owner, owner.transaction(force_rollback=True):
        assert owner.execute("DELETE FROM audit_record").rowcount > 0


# -- the station, through the application -------------------------------------------------------


def test_the_app_knows_its_account(station_url: str, owner_url: str, pg_demo_url: str) -> None:
    for url, expected in (
        (station_url, Privilege.STATION),
        (owner_url, Privilege.OWNER),
        (pg_demo_url, Privilege.SUPERUSER),
    ):
        database = open_database(url)
        try:
            assert database.privilege == expected
        finally:
            database.dispose()


def test_a_permission_error_is_said_in_words(station_url: str) -> None:
    database = open_database(station_url)
    try:
        with pytest.raises(DatabaseAccountTooWeak) as caught, database.unit_of_work() as uow:
            uow.session.execute(delete(JournalEntry))
        assert str(caught.value) == (
            "This station's database account cannot delete from the points journal; nothing "
            "was saved. Ask the coordinator to do it on the event's own laptop."
        )
        with pytest.raises(DatabaseAccountTooWeak) as caught, database.unit_of_work() as uow:
            uow.session.execute(update(Redemption).values(conflict="twice"))
            uow.commit()
        assert "cannot change the redemptions" in str(caught.value)
        set_language("zh_CN")
        with pytest.raises(DatabaseAccountTooWeak) as caught, database.unit_of_work() as uow:
            uow.session.execute(delete(AuditRecord))
        assert str(caught.value).startswith("这台工位的数据库账号不能"), str(caught.value)
    finally:
        database.dispose()


def test_a_station_does_not_upgrade_the_schema(station_url: str) -> None:
    name = make_url(station_url).database
    with _admin(str(name)) as admin:
        admin.execute("UPDATE alembic_version SET version_num = '3bb4e66fa4c9'")
    with pytest.raises(DatabaseError) as caught:
        open_database(station_url)
    assert "only the coordinator's owner account can upgrade it" in str(caught.value)
    assert "kiosk init" in str(caught.value)


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["init"], "create or upgrade the event database"),
        (["backup", "--to", "{tmp}"], "back up the event database"),
        (["event", "copy", "--from", "{sqlite}", "--to", "{db}"], "copy an event"),
        (["event", "close", "--staff", "S001"], "close the event"),
        (["event", "purge", "--staff", "S001"], "remove the personal data"),
    ],
)
def test_owner_commands_refuse_a_station_url(
    station_url: str,
    sqlite_demo_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    words: str,
) -> None:
    filled = [
        c.format(tmp=tmp_path / "backups", sqlite=sqlite_demo_url, db=station_url) for c in command
    ]
    assert main(["--lang", "en", "--db", station_url, *filled]) == 1
    said = capsys.readouterr().err
    assert "is a station's: it cannot" in said and words in said, said
    assert "Traceback" not in said


def test_grants_cover_a_table_a_later_migration_adds(owner_url: str, station_url: str) -> None:
    database = open_database(owner_url)
    try:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE later_checkpoint (id serial PRIMARY KEY)")
            assert apply_grants(connection)
            assert apply_grants(connection)  # idempotent
    finally:
        database.dispose()
    with _as(station_url) as station:
        station.execute("INSERT INTO later_checkpoint DEFAULT VALUES")
        assert station.execute("SELECT count(*) FROM later_checkpoint").fetchone()[0] == 1
        _refused(station, "DELETE FROM later_checkpoint")


def test_a_superuser_migrates_as_the_owner(pg_station_roles: Any, station_url: str) -> None:
    """``kiosk init`` with the admin URL: what a migration adds still belongs to the owner."""
    admin_url = url_text(make_url(PG_ADMIN_URL).set(database=make_url(station_url).database))
    database = open_database(admin_url)
    try:
        assert database.privilege == Privilege.SUPERUSER
        with database.engine.begin() as connection:
            prepare_upgrade(connection)
            connection.exec_driver_sql("CREATE TABLE added_later (id serial PRIMARY KEY)")
            owner = connection.exec_driver_sql(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'added_later'"
            ).scalar()
        assert owner == pg_station_roles.owner
    finally:
        database.dispose()


# -- kiosk db setup, end to end ---------------------------------------------------------------


@pytest.fixture
def fresh_name() -> Iterator[str]:
    """A database name for one set-up; its database and roles are dropped afterwards."""
    name = f"kiosk_setup_{uuid.uuid4().hex[:10]}"
    yield name
    with _admin("test") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in reversed(role_names(name)):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_db_setup_json_end_to_end(
    fresh_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], sqlite_demo_url: str
) -> None:
    out = tmp_path / "event-secrets"
    argv = ["--lang", "en", "db", "setup", "--admin", PG_ADMIN_URL, "--name", fresh_name]
    argv += ["--host", "127.0.0.1", "--subnet", "127.0.0.0/8", "--out", str(out), "--json"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"owner", "station", "booth", "ca"}
    # The booths go through the gateway; the CA is the one kiosk.lan_tls wrote into --out.
    assert printed["booth"] == "https://127.0.0.1:8443"
    assert printed["ca"] == str((out / "ca.crt").resolve())
    authority = x509.load_pem_x509_certificate((out / "ca.crt").read_bytes())
    assert authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server = x509.load_pem_x509_certificate((out / "server.crt").read_bytes())
    assert server.issuer == authority.subject
    owner, station = make_url(printed["owner"]), make_url(printed["station"])
    assert (owner.username, station.username) == role_names(fresh_name)
    assert owner.database == station.database == fresh_name
    assert owner.password and station.password and owner.password != station.password
    kept = out / "database-urls.json"
    assert json.loads(kept.read_text(encoding="utf-8")) == printed
    if os.name == "posix":
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(out.stat().st_mode) == 0o700
    database = open_database(printed["station"])
    try:
        assert database.privilege == Privilege.STATION
    finally:
        database.dispose()

    # The event moved in with the owner's URL: the stations are told the station account's
    # URL, never the owner's (tried by hand: it said "Stations now open: <the owner's URL>").
    assert (
        main(["--lang", "en", "event", "copy", "--from", sqlite_demo_url, "--to", printed["owner"]])
        == 0
    )
    said = capsys.readouterr().out
    assert "the counts match. The stations open the station account's URL" in said
    assert f"({station.username}, printed by kiosk db setup), never this owner's URL." in said

    # Again on the same database: one sentence, nothing changed.
    assert main(argv) == 1
    said = capsys.readouterr().err
    assert f"The database {fresh_name} exists already; nothing was changed" in said
    assert json.loads(kept.read_text(encoding="utf-8")) == printed


def test_db_setup_prints_the_hba_lines(
    fresh_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--lang", "en", "db", "setup", "--admin", PG_ADMIN_URL, "--name", fresh_name]
    argv += ["--host", "10.1.2.3", "--subnet", "10.1.2.0/24", "--out", str(tmp_path / "s")]
    assert main(argv) == 0
    said = capsys.readouterr().out
    _owner, station = role_names(fresh_name)
    assert f"hostssl  {fresh_name}  {station}  10.1.2.0/24  scram-sha-256" in said
    assert f"{_owner}  127.0.0.1/32" in said and f"{_owner}  10.1.2.0/24" not in said
    urls = json.loads((tmp_path / "s" / "database-urls.json").read_text(encoding="utf-8"))
    assert make_url(urls["station"]).host == "10.1.2.3"
    # TLS: the steps for the server, with a certificate for the address the stations use.
    assert "ssl = on" in said and "ssl_cert_file = 'server.crt'" in said
    server = x509.load_pem_x509_certificate((tmp_path / "s" / "server.crt").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.1.2.3") in names.get_values_for_type(x509.IPAddress)
    first_ca = (tmp_path / "s" / "ca.crt").read_bytes()
    # --reset-passwords: new passwords, the same database.
    assert main([*argv, "--reset-passwords"]) == 0
    again = json.loads((tmp_path / "s" / "database-urls.json").read_text(encoding="utf-8"))
    assert make_url(again["station"]).password != make_url(urls["station"]).password
    said = capsys.readouterr().out
    assert "exists already: its roles" in said
    # The TLS files of the first set-up are kept: the stations have that ca.crt already.
    assert "are kept from the first set-up" in said
    assert (tmp_path / "s" / "ca.crt").read_bytes() == first_ca


def test_a_set_up_that_stops_half_way_leaves_nothing_behind(
    fresh_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """Tried by hand: a set-up that failed after CREATE DATABASE left the database and its
    roles, and the next try said "exists already". Now it takes away what it made."""
    import kiosk.db

    def full_disk(_engine: Any) -> None:
        raise DatabaseError("The server's disk is full.")

    argv = ["--lang", "en", "db", "setup", "--admin", PG_ADMIN_URL, "--name", fresh_name]
    argv += ["--host", "127.0.0.1", "--subnet", "127.0.0.0/8", "--out", str(tmp_path / "s")]
    monkeypatch.setattr(kiosk.db, "migrate", full_disk)
    assert main(argv) == 1
    assert (
        "The set-up stopped: The server's disk is full. Nothing was left on the server."
        in capsys.readouterr().err
    )
    with _admin("test") as admin:
        assert not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (fresh_name,)
        ).fetchone()
        assert not admin.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(role_names(fresh_name)),)
        ).fetchall()
    monkeypatch.undo()
    # The next try starts afresh and works.
    assert main(argv) == 0
    database = open_database(
        json.loads((tmp_path / "s" / "database-urls.json").read_text())["station"]
    )
    try:
        assert database.privilege == Privilege.STATION
    finally:
        database.dispose()
