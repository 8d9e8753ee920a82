"""A test PKI and the ledger's HTTPS service on loopback, for the tests and the benchmark.

``make_pki`` writes a CA, a server certificate for 127.0.0.1, client certificates (a good
one, an expired one, one from another CA) and an expired server certificate, all made with
``cryptography``. ``serving`` runs the real uvicorn server with TLS in a background thread
on a free port (``uvicorn.Server`` installs no signal handlers off the main thread).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sync.api import server
from sync.ledger import Ledger
from tests.tcp_proxy import free_port


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    expired_client_cert: Path
    expired_client_key: Path
    stranger_cert: Path  # a client certificate from another CA
    stranger_key: Path
    expired_server_cert: Path
    expired_server_key: Path
    other_ca: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _ca(common: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    common: str,
    *,
    server: bool,
    expired: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(days=30), now - timedelta(days=1))
        if expired
        else (now - timedelta(days=1), now + timedelta(days=30))
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[1].public_key()),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
    return builder.sign(ca[1], hashes.SHA256()), key


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca = _ca("kiosk test CA")
    other = _ca("another CA")
    files: dict[str, Path] = {}
    for name, (cert, key) in {
        "server": _leaf(ca, "ledger", server=True),
        "client": _leaf(ca, "kiosk laptop", server=False),
        "expired_client": _leaf(ca, "old laptop", server=False, expired=True),
        "stranger": _leaf(other, "stranger", server=False),
        "expired_server": _leaf(ca, "old ledger", server=True, expired=True),
    }.items():
        files[f"{name}_cert"] = _write_cert(cert, folder / f"{name}.pem")
        files[f"{name}_key"] = _write_key(key, folder / f"{name}.key")
    return Pki(
        ca=_write_cert(ca[0], folder / "ca.pem"),
        other_ca=_write_cert(other[0], folder / "other-ca.pem"),
        **files,
    )


@contextmanager
def serving(
    ledger: Ledger,
    pki: Pki | None,
    *,
    client_certs: bool = False,
    expired: bool = False,
) -> Iterator[str]:
    """The ledger's API on https://127.0.0.1:PORT (http:// without ``pki``) while the block
    runs; with ``client_certs`` a client certificate of the test CA is required."""
    port = free_port()
    cert = key = None
    if pki is not None:
        cert = pki.expired_server_cert if expired else pki.server_cert
        key = pki.expired_server_key if expired else pki.server_key
    instance = server(
        ledger,
        host="127.0.0.1",
        port=port,
        cert=str(cert) if cert else None,
        key=str(key) if key else None,
        client_ca=str(pki.ca) if pki is not None and client_certs else None,
        log_level="critical",
    )
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the ledger service did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if pki else 'http'}://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(20)
