"""The event CA and server certificate (kiosk.lan_tls), and the client's rule for a PostgreSQL
URL, without a server: what the certificates say, how their files are kept, which URLs are
refused before any connection and which CA file a station uses.

tests/integration/test_lan_tls.py connects to a real TLS-serving cluster with them."""

from __future__ import annotations

import ipaddress
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import make_url

from kiosk import db, lan_tls
from kiosk.errors import DatabaseError
from kiosk.i18n import set_language

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
HOSTS = ["192.168.1.10", "event-db.test", "FE80::1", "Event-DB.test"]


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def written(tmp_path: Path) -> lan_tls.TlsFiles:
    return lan_tls.write_event_tls(tmp_path / "tls", HOSTS, now=NOW)


def test_the_event_ca_may_sign_server_certificates_only(written: lan_tls.TlsFiles) -> None:
    ca = _cert(written.ca_cert)
    assert ca.issuer == ca.subject
    ca.verify_directly_issued_by(ca)  # self-signed
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is True
    assert constraints.value.path_length == 0  # no intermediate CA under it
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert ca.not_valid_before_utc == NOW - timedelta(days=1)  # a laptop's clock a day behind
    assert ca.not_valid_after_utc == NOW + timedelta(days=30)


def test_the_server_certificate_names_every_host_and_serves_only(
    written: lan_tls.TlsFiles,
) -> None:
    ca, server = _cert(written.ca_cert), _cert(written.server_cert)
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("192.168.1.10"),
        ipaddress.ip_address("fe80::1"),
    ]
    # A name compared case-blind by libpq, so the two spellings are one SAN.
    assert sans.get_values_for_type(x509.DNSName) == ["event-db.test"]
    assert written.hosts == ("192.168.1.10", "event-db.test", "fe80::1")
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    constraints = server.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    assert server.not_valid_before_utc >= ca.not_valid_before_utc
    assert server.not_valid_after_utc <= ca.not_valid_after_utc
    assert (written.not_before, written.not_after) == (
        server.not_valid_before_utc,
        server.not_valid_after_utc,
    )


def test_the_key_is_the_certificates_and_no_one_elses(written: lan_tls.TlsFiles) -> None:
    key = serialization.load_pem_private_key(written.server_key.read_bytes(), password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server = (
        _cert(written.server_cert)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert public == server
    assert _mode(written.server_key) == 0o600
    assert _mode(written.folder) == 0o700
    # The CA's key is nowhere: only the three files, and none of them holds a second key.
    assert sorted(p.name for p in written.folder.iterdir()) == [
        "ca.crt",
        "server.crt",
        "server.key",
    ]
    assert b"PRIVATE KEY" not in written.ca_cert.read_bytes()
    assert b"PRIVATE KEY" not in written.server_cert.read_bytes()


def test_writing_again_replaces_the_files_and_tightens_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    first = lan_tls.write_event_tls(folder, ["event-db.test"], now=NOW)
    first_serial = _cert(first.server_cert).serial_number
    os.chmod(folder, 0o755)
    os.chmod(first.server_key, 0o644)
    second = lan_tls.write_event_tls(folder, ["10.0.0.5"], now=NOW)
    assert _mode(folder) == 0o700
    assert _mode(second.server_key) == 0o600
    assert _cert(second.server_cert).serial_number != first_serial
    assert second.hosts == ("10.0.0.5",)
    _cert(second.server_cert).verify_directly_issued_by(_cert(second.ca_cert))
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no partial files


def test_a_server_certificate_never_outlives_its_ca() -> None:
    ca = lan_tls.make_event_ca(now=NOW, days=10)
    server, _key = lan_tls.issue_server_cert(ca, ["event-db.test"], now=NOW, days=30)
    assert server.not_valid_after_utc == ca.certificate.not_valid_after_utc
    ca_later = lan_tls.make_event_ca(now=NOW + timedelta(days=5), days=30)
    early, _key = lan_tls.issue_server_cert(ca_later, ["event-db.test"], now=NOW, days=30)
    assert early.not_valid_before_utc == ca_later.certificate.not_valid_before_utc


def test_bad_host_lists_and_naive_times_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one host"):
        lan_tls.write_event_tls(tmp_path / "a", ["", "  "], now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        lan_tls.write_event_tls(tmp_path / "b", ["x.test"], now=datetime(2026, 11, 20, 9, 30))
    bracketed = lan_tls.write_event_tls(tmp_path / "c", ["[::1]"], now=NOW)
    sans = _cert(bracketed.server_cert).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert sans.value.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("::1")]


def test_the_postgresql_conf_lines_quote_the_paths_as_postgresql_reads_them() -> None:
    lines = lan_tls.postgresql_conf_lines(
        Path("/srv/pg/it's/server.crt"), Path("C:\\PostgreSQL\\data\\server.key")
    )
    assert lines == [
        "ssl = on",
        "ssl_cert_file = '/srv/pg/it''s/server.crt'",
        "ssl_key_file = 'C:/PostgreSQL/data/server.key'",
    ]


def test_the_steps_name_the_files_the_lines_and_the_key_rules(
    written: lan_tls.TlsFiles,
) -> None:
    steps = "\n".join(lan_tls.server_steps(written))
    # The files are copied into the data folder, where PostgreSQL reads a bare file name.
    printed = [line for line in steps.splitlines() if line.startswith("    ")]
    assert printed == [f"    {line}" for line in lan_tls.data_folder_conf_lines()]
    assert lan_tls.data_folder_conf_lines() == [
        "ssl = on",
        "ssl_cert_file = 'server.crt'",
        "ssl_key_file = 'server.key'",
    ]
    assert str(written.server_key) in steps and str(written.ca_cert) in steps
    assert "chmod 600 server.key" in steps and "chown postgres:postgres" in steps
    assert "event-ca.crt" in steps and "KIOSK_DB_CA" in steps
    assert (NOW + timedelta(days=30)).strftime("%Y-%m-%d") in steps
    set_language("zh_CN")
    chinese = "\n".join(lan_tls.server_steps(written))
    assert chinese != steps and "postgresql.conf" in chinese and "chmod 600" in chinese


# -- the client's rule ------------------------------------------------------------------------


@pytest.fixture
def ca_file(written: lan_tls.TlsFiles) -> Path:
    return written.ca_cert


@pytest.fixture(autouse=True)
def _no_ca_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(lan_tls.ENV_CA, raising=False)
    monkeypatch.delenv("PGHOST", raising=False)


def _policy(url: str, data_dir: Path) -> dict[str, object]:
    return dict(lan_tls.client_policy(make_url(url), data_dir).query)


@pytest.mark.parametrize(
    "host",
    [
        "event-db.test",
        "192.168.1.10",
        "[fe80::1]",
        "event-db.test?hostaddr=127.0.0.1",  # libpq checks the name, so the name counts
        "localhost,192.168.1.10",  # one remote host among several
    ],
)
def test_a_remote_server_gets_verify_full_and_the_event_ca(
    host: str, tmp_path: Path, ca_file: Path
) -> None:
    (tmp_path / "event-ca.crt").write_bytes(ca_file.read_bytes())
    sep = "&" if "?" in host else "?"
    query = _policy(f"postgresql://kiosk@{host}{sep}application_name=desk", tmp_path)
    assert query["sslmode"] == "verify-full"
    assert query["sslrootcert"] == str(tmp_path / "event-ca.crt")
    assert query["application_name"] == "desk"


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_a_weaker_sslmode_to_a_remote_server_is_refused(
    mode: str, tmp_path: Path, ca_file: Path
) -> None:
    url = f"postgresql://kiosk@event-db.test/kiosk_event?sslmode={mode}&sslrootcert={ca_file}"
    with pytest.raises(DatabaseError) as refused:
        lan_tls.client_policy(make_url(url), tmp_path)
    assert str(refused.value) == (
        f"The database URL asks for sslmode={mode} to event-db.test; over the network kiosk "
        "connects only with sslmode=verify-full and the event CA, so remove sslmode from the URL."
    )
    with pytest.raises(DatabaseError, match="unknown sslmode=verify-fully"):
        lan_tls.client_policy(make_url(url.replace(mode, "verify-fully")), tmp_path)


def test_the_ca_comes_from_the_url_then_the_environment_then_the_data_folder(
    tmp_path: Path, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere.pem"
    data.mkdir()
    (data / "event-ca.crt").write_bytes(ca_file.read_bytes())
    elsewhere.write_bytes(ca_file.read_bytes())
    url = "postgresql://kiosk@event-db.test/kiosk_event"
    assert _policy(url, data)["sslrootcert"] == str(data / "event-ca.crt")
    monkeypatch.setenv("KIOSK_DB_CA", str(elsewhere))
    assert _policy(url, data)["sslrootcert"] == str(elsewhere)
    assert _policy(f"{url}?sslrootcert={ca_file}", data)["sslrootcert"] == str(ca_file)
    # libpq's "system" (the operating system's roots) is a verify-full of its own.
    assert _policy(f"{url}?sslrootcert=system", data) == {
        "sslrootcert": "system",
        "sslmode": "verify-full",
    }


def test_no_event_ca_is_one_sentence_naming_the_file(tmp_path: Path) -> None:
    url = make_url("postgresql://kiosk@event-db.test/kiosk_event")
    with pytest.raises(DatabaseError) as refused:
        lan_tls.client_policy(url, tmp_path)
    expected = tmp_path / "event-ca.crt"
    assert str(refused.value) == (
        f"The event CA file {expected} is missing: copy the ca.crt that “kiosk db setup” "
        f"wrote to {expected} (or set KIOSK_DB_CA to where it is)."
    )
    set_language("zh_CN")
    with pytest.raises(DatabaseError) as chinese:
        lan_tls.client_policy(url, tmp_path)
    assert str(expected) in str(chinese.value) and "kiosk db setup" in str(chinese.value)
    assert str(chinese.value) != str(refused.value)
    set_language("en")
    (tmp_path / "event-ca.crt").write_text("not a certificate\n")
    with pytest.raises(DatabaseError, match=r"event-ca\.crt is not a certificate: copy"):
        lan_tls.client_policy(url, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql://postgres@127.8.9.10/test?sslmode=disable",
        "postgresql://postgres@localhost/test?sslmode=require",
        "postgresql://postgres@[::1]/test?sslmode=prefer",
        "postgresql://postgres@/test",
        "postgresql://postgres@/test?host=/var/run/postgresql",
    ],
)
def test_this_machine_keeps_any_sslmode(url: str, tmp_path: Path) -> None:
    parsed = make_url(url)
    assert lan_tls.client_policy(parsed, tmp_path) == parsed


def test_pghost_counts_when_the_url_names_no_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGHOST", "event-db.test")
    with pytest.raises(DatabaseError, match="event CA file"):
        lan_tls.client_policy(make_url("postgresql://kiosk@/kiosk_event"), tmp_path)


def test_verify_full_on_this_machine_gets_the_event_ca_too(tmp_path: Path, ca_file: Path) -> None:
    with pytest.raises(DatabaseError, match="event CA file"):
        lan_tls.client_policy(make_url("postgresql://p@127.0.0.1/t?sslmode=verify-full"), tmp_path)
    url = f"postgresql://p@127.0.0.1/t?sslmode=verify-full&sslrootcert={ca_file}"
    assert _policy(url, tmp_path)["sslrootcert"] == str(ca_file)


def test_the_database_layer_applies_the_rule_before_connecting(
    tmp_path: Path, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kiosk.db looks for event-ca.crt in the per-user data folder; SQLite is untouched."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "kiosk" / "event-ca.crt"
    assert db.default_data_dir() == expected.parent
    with pytest.raises(DatabaseError, match=f"{expected} is missing"):
        db.create_db_engine("postgresql://kiosk:pw@event-db.test/kiosk_event")
    with pytest.raises(DatabaseError, match="sslmode=require"):
        db.open_database("postgresql://kiosk:pw@event-db.test/kiosk_event?sslmode=require")
    expected.parent.mkdir(parents=True)
    expected.write_bytes(ca_file.read_bytes())
    engine = db.create_db_engine("postgresql://kiosk:pw@event-db.test/kiosk_event")
    try:
        assert engine.url.query["sslmode"] == "verify-full"
        assert engine.url.query["sslrootcert"] == str(expected)
    finally:
        engine.dispose()
