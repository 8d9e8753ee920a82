"""TLS on the venue LAN against a real PostgreSQL (issue #29): a throwaway cluster of the test's
own serves certificates made by kiosk.lan_tls, and a station connects through kiosk.db.

One cluster for the module (it starts in about a second): it requires TLS in pg_hba.conf
(``hostssl`` only) and serves the event certificate for event-db.test, 127.0.0.1 and
localhost. A test that needs the server otherwise (an expired certificate, TLS off) swaps the
files, reloads, waits until the server presents what it was given, and puts it back.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from cryptography import x509
from sqlalchemy import make_url, text

from kiosk import lan_tls
from kiosk.db import HEAD_REVISION, current_revision, open_database
from kiosk.errors import DatabaseError
from kiosk.i18n import set_language
from tests.pg_cluster_support import Cluster, need_tools

pytestmark = pytest.mark.pg

# The server's clock is the real one, so the certificates are made around the real time.
NOW = datetime.now(UTC)
DB = "kiosk_tls"
# The postgresql.conf lines ``kiosk db setup`` prints, for the files in the data folder.
PRINTED_CONF = lan_tls.data_folder_conf_lines()


@dataclass
class TlsServer:
    cluster: Cluster
    ca: lan_tls.EventCA
    good: lan_tls.TlsFiles  # event-db.test, 127.0.0.1, localhost; signed by ``ca``
    work: Path

    def url(self, host: str = "127.0.0.1", **query: str) -> str:
        tail = f"?{urlencode(query)}" if query else ""
        return f"postgresql://postgres@{host}:{self.cluster.port}/{DB}{tail}"

    def serve(self, files: lan_tls.TlsFiles) -> None:
        """Present ``files``' certificate from now on (TLS on, TLS required)."""
        self.cluster.give(files.server_cert, "server.crt", 0o644)
        self.cluster.give(files.server_key, "server.key")
        self.cluster.write_conf(PRINTED_CONF)
        self.cluster.write_hba(["hostssl all all 127.0.0.1/32 trust"])
        serial = x509.load_pem_x509_certificate(files.server_cert.read_bytes()).serial_number
        self.cluster.reload(lambda: _serial(self.url()) == serial, f"{files.server_cert}")

    @contextlib.contextmanager
    def presenting(self, files: lan_tls.TlsFiles) -> Iterator[None]:
        self.serve(files)
        try:
            yield
        finally:
            self.serve(self.good)

    @contextlib.contextmanager
    def without_tls(self) -> Iterator[None]:
        self.cluster.write_conf(["ssl = off"])
        self.cluster.write_hba(["host all all 127.0.0.1/32 trust"])
        self.cluster.reload(lambda: _answers_ssl_request(self.cluster.port) == b"N", "ssl = off")
        try:
            yield
        finally:
            self.serve(self.good)


def _serial(url: str) -> int | None:
    certificate = lan_tls.server_certificate(make_url(url))
    return certificate.serial_number if certificate is not None else None


def _answers_ssl_request(port: int) -> bytes:
    """The server's one-byte answer to an SSLRequest: S (TLS follows) or N (no TLS)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            raw.sendall(struct.pack("!ii", 8, 80877103))
            return raw.recv(1)
    except OSError:
        return b""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    tools = need_tools()
    work = tmp_path_factory.mktemp("tls")
    # Older than the certificates it signs, so an expired server certificate can come from it.
    ca = lan_tls.make_event_ca(now=NOW - timedelta(days=60), days=120)
    good = lan_tls.write_event_tls(
        work / "good", ["event-db.test", "127.0.0.1", "localhost"], now=NOW, ca=ca
    )
    cluster = Cluster(tools)
    try:
        # As the coordinator is told: the printed lines, the two files in the data folder.
        cluster.init(PRINTED_CONF, ["hostssl all all 127.0.0.1/32 trust"])
        cluster.give(good.server_cert, "server.crt", 0o644)
        cluster.give(good.server_key, "server.key")
        cluster.start()
        with psycopg.connect(
            host=str(cluster.root), port=cluster.port, user="postgres", dbname="postgres"
        ) as admin:
            admin.autocommit = True
            admin.execute(f'CREATE DATABASE "{DB}"')
        yield TlsServer(cluster=cluster, ca=ca, good=good, work=work)
    finally:
        cluster.stop()


@pytest.fixture(autouse=True)
def _no_station_ca(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No event-ca.crt of this machine's user, nor a KIOSK_DB_CA, leaks into a test."""
    monkeypatch.delenv(lan_tls.ENV_CA, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def _refusal(url: str) -> str:
    with pytest.raises(DatabaseError) as refused:
        open_database(url, migrate_schema=False)
    return str(refused.value)


def _encrypted(database) -> bool:  # type: ignore[no-untyped-def]
    with database.engine.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ).scalar()
        )


def test_verify_full_with_the_event_ca_connects_and_migrates(server: TlsServer) -> None:
    url = server.url(sslmode="verify-full", sslrootcert=str(server.good.ca_cert))
    database = open_database(url)
    try:
        assert current_revision(database.engine) == HEAD_REVISION
        assert _encrypted(database)
    finally:
        database.dispose()


def test_a_server_by_name_gets_verify_full_without_asking(
    server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No sslmode in the URL: kiosk asks for verify-full with the CA KIOSK_DB_CA names, and
    libpq connects to hostaddr while checking the certificate against event-db.test."""
    monkeypatch.setenv(lan_tls.ENV_CA, str(server.good.ca_cert))
    database = open_database(
        server.url("event-db.test", hostaddr="127.0.0.1"), migrate_schema=False
    )
    try:
        assert database.engine.url.query["sslmode"] == "verify-full"
        assert _encrypted(database)
    finally:
        database.dispose()


@pytest.mark.parametrize("mode", ["disable", "require"])
def test_a_weaker_sslmode_to_a_server_by_name_is_refused_before_connecting(
    server: TlsServer, mode: str
) -> None:
    url = server.url(
        "event-db.test", hostaddr="127.0.0.1", sslmode=mode, sslrootcert=str(server.good.ca_cert)
    )
    assert _refusal(url) == (
        f"The database URL asks for sslmode={mode} to event-db.test; over the network kiosk "
        "connects only with sslmode=verify-full and the event CA, so remove sslmode from the URL."
    )
    if mode == "require":
        # The server would have taken it: the refusal is the station's own rule.
        with psycopg.connect(url, connect_timeout=5) as plain:
            assert plain.execute("SELECT 1").fetchone() == (1,)


def test_a_plain_connection_to_this_tls_only_server_is_refused(server: TlsServer) -> None:
    """Loopback may ask for no TLS; the server's pg_hba.conf (hostssl only) refuses it."""
    assert _refusal(server.url(sslmode="disable")) == (
        "The database server 127.0.0.1 accepts only encrypted connections: remove sslmode "
        "from the database URL."
    )


def test_a_server_without_tls_is_refused_in_one_sentence(
    server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(lan_tls.ENV_CA, str(server.good.ca_cert))
    with server.without_tls():
        # The same server serves a plain connection on loopback meanwhile.
        open_database(server.url(sslmode="disable"), migrate_schema=False).dispose()
        assert _refusal(server.url("event-db.test", hostaddr="127.0.0.1")) == (
            "The database server event-db.test does not offer TLS, so kiosk did not connect: "
            "turn on ssl in its postgresql.conf as “kiosk db setup” printed."
        )


def test_a_role_without_a_pg_hba_line_is_told_which_line_is_missing(
    server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried by hand: ``kiosk db setup`` on a server whose pg_hba.conf admits no one but the
    superuser said "accepts only encrypted connections: remove sslmode" of a URL without any
    sslmode. What is missing is the line for that role."""
    monkeypatch.setenv(lan_tls.ENV_CA, str(server.good.ca_cert))
    url = server.url("event-db.test", hostaddr="127.0.0.1").replace(
        "postgres@", "kiosk_event_station@"
    )

    def refused_for_the_line() -> bool:
        try:
            return "pg_hba.conf line" in _refusal(url)
        except BaseException:  # still connecting: the old lines are in force
            return False

    server.cluster.write_hba(["hostssl all postgres 127.0.0.1/32 trust"])
    try:
        server.cluster.reload(refused_for_the_line, "pg_hba.conf for the superuser only")
        assert _refusal(url) == (
            "The database server event-db.test has no pg_hba.conf line that lets "
            f"kiosk_event_station into the database {DB} from this computer: add the hostssl "
            "line that “kiosk db setup” printed for it, then reload the server."
        )
    finally:
        server.serve(server.good)


def test_a_certificate_of_another_ca_is_refused(server: TlsServer) -> None:
    stranger = lan_tls.write_event_tls(server.work / "stranger", ["event-db.test"], now=NOW)
    url = server.url("event-db.test", hostaddr="127.0.0.1", sslrootcert=str(stranger.ca_cert))
    assert _refusal(url) == (
        "The database server's certificate was not issued by the event CA in "
        f"{stranger.ca_cert}: copy this event's ca.crt from “kiosk db setup” to this station."
    )
    set_language("zh_CN")
    assert _refusal(url) == (
        f"数据库服务器的证书不是由 {stranger.ca_cert} 中的活动 CA 签发的：请把本次活动"
        "“kiosk db setup”生成的 ca.crt 复制到本工位。"
    )


def test_a_certificate_for_another_host_is_refused(server: TlsServer) -> None:
    url = server.url(
        "db.other-event.test", hostaddr="127.0.0.1", sslrootcert=str(server.good.ca_cert)
    )
    assert _refusal(url) == (
        "The database server's certificate is not for db.other-event.test: use the server "
        "name given by “kiosk db setup” in the URL, or make the certificate again for this name."
    )


def test_an_expired_certificate_is_refused(server: TlsServer) -> None:
    expired = lan_tls.write_event_tls(
        server.work / "expired", ["event-db.test"], now=NOW - timedelta(days=50), ca=server.ca
    )
    assert expired.not_after < NOW  # signed by the event CA, which is still valid
    url = server.url("event-db.test", hostaddr="127.0.0.1", sslrootcert=str(server.good.ca_cert))
    with server.presenting(expired):
        assert _refusal(url) == (
            "The database server's certificate has expired: make new certificates with "
            "“kiosk db setup” and give the stations the new ca.crt."
        )
    # Back to the good certificate, the same URL connects.
    open_database(url, migrate_schema=False).dispose()


def test_a_missing_ca_file_is_refused(server: TlsServer) -> None:
    missing = server.work / "nowhere" / "ca.crt"
    url = server.url("event-db.test", hostaddr="127.0.0.1", sslrootcert=str(missing))
    assert _refusal(url) == (
        f"The event CA file {missing} is missing: copy the ca.crt that “kiosk db setup” wrote "
        f"to {missing} (or set KIOSK_DB_CA to where it is)."
    )
    # Gone between kiosk's look and libpq's (libpq's own words, read by kiosk).
    with pytest.raises(psycopg.OperationalError) as libpq:
        psycopg.connect(
            host="127.0.0.1",
            port=server.cluster.port,
            user="postgres",
            dbname=DB,
            sslmode="verify-full",
            sslrootcert=str(missing),
        )
    assert lan_tls.tls_failure(make_url(url), libpq.value) == (
        f"The event CA file {missing} is missing or cannot be read: copy the ca.crt that "
        "“kiosk db setup” wrote there."
    )


def test_the_change_watcher_dials_the_looked_up_address_and_verifies_the_name(
    server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A station's change watcher to a server by NAME (issue #23): the name is looked up
    first (no resolver knows event-db.test: the test's lookup answers), libpq dials the
    address and checks the certificate against the name, so another name is refused."""
    from kiosk.changes import ChangeWatcher

    class Lookup:
        def start(self, host: str) -> None:
            pass

        def result(self) -> tuple[tuple[str, ...], str]:
            return ("127.0.0.1",), ""

        def cancel(self) -> None:
            pass

    from kiosk.db import connect_lazily

    monkeypatch.setenv(lan_tls.ENV_CA, str(server.good.ca_cert))
    open_database(server.url("event-db.test", hostaddr="127.0.0.1")).dispose()  # migrated
    database = connect_lazily(server.url("event-db.test"))  # by name alone
    other = connect_lazily(server.url("db.other-event.test"))
    watcher = ChangeWatcher(database.engine, lookup=Lookup())
    stranger = ChangeWatcher(other.engine, lookup=Lookup())
    try:
        reading = watcher.wait()
        assert reading.reachable and reading.value is not None, reading.error
        assert watcher.listening and watcher._conn.ssl_in_use
        refused = stranger.wait()
        assert refused.reachable is False
        # libpq dialled the address and refused the certificate for the name it was given.
        assert '"127.0.0.1"' in refused.error and "does not match" in refused.error
        assert "db.other-event.test" in refused.error
    finally:
        watcher.close()
        stranger.close()
        database.dispose()
        other.dispose()
