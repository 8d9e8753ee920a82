"""TLS on the venue LAN: the event's own certificate authority, and the rule every client keeps.

The venue LAN is a hotel's or a mall's network, so nothing between a station and the event
database travels in clear and no station trusts a server just because it answers (issue #29).

The server side: ``write_event_tls`` makes an event CA and a server certificate signed by it
for the server's addresses and names, and writes ``ca.crt``, ``server.crt`` and ``server.key``
(the key 0600 in a 0700 folder) for ``kiosk db setup``; ``postgresql_conf_lines`` and
``server_steps`` are what it prints for the coordinator. The CA's private key is never written
anywhere: it signs the one server certificate and is forgotten, so a copied set-up folder
cannot be used to make a certificate for another machine. A new server certificate means a
new CA (run the setup again and give the stations the new ``ca.crt``).

Thirty days of validity: long enough for a set-up done weeks before the event, the event day and
the settlement after it; short enough that a ``ca.crt`` left on a borrowed laptop trusts nothing
by the next event. Each certificate starts a day before it was made, so a station whose clock
is some hours behind the server's still accepts it.

The client side (``client_policy``, called by ``kiosk.db`` for every PostgreSQL URL): to any
server other than this machine (loopback or a local socket) a station connects only with
``sslmode=verify-full`` and the event CA, and ``tls_failure`` turns the libpq errors of a
refused connection into one sentence each.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy.engine import URL

from kiosk.clock import utcnow
from kiosk.errors import DatabaseError
from kiosk.files import sync_folder, write_atomic
from kiosk.i18n import _

CA_FILE = "ca.crt"
SERVER_CERT_FILE = "server.crt"
SERVER_KEY_FILE = "server.key"
# The event CA on a station: in the per-user data folder under this name, or wherever
# KIOSK_DB_CA points, or named by the URL's sslrootcert.
STATION_CA_FILE = "event-ca.crt"
ENV_CA = "KIOSK_DB_CA"
VALID_DAYS = 30
BACKDATE = timedelta(days=1)

# sslmode values that connect without checking who the server is (or without TLS at all).
WEAK_SSLMODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca"})
SAFE_SSLMODE = "verify-full"


# -- the certificates -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventCA:
    """The event's certificate authority, in memory only (its key is never written)."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class TlsFiles:
    """What ``write_event_tls`` wrote, and for whom each file is."""

    folder: Path
    ca_cert: Path  # for every station: its event-ca.crt (or KIOSK_DB_CA, or sslrootcert)
    server_cert: Path  # for the database server: ssl_cert_file
    server_key: Path  # for the database server: ssl_key_file, 0600, owned by the server's user
    hosts: tuple[str, ...]
    not_before: datetime
    not_after: datetime

    def postgresql_conf(self) -> list[str]:
        """The postgresql.conf lines for these files where they are now."""
        return postgresql_conf_lines(self.server_cert, self.server_key)


def _now(now: datetime | None) -> datetime:
    moment = now if now is not None else utcnow()
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment


def _new_key() -> ec.EllipticCurvePrivateKey:
    # P-256: made in a millisecond, and every OpenSSL that PostgreSQL and libpq link accepts it.
    return ec.generate_private_key(ec.SECP256R1())


def make_event_ca(
    *, now: datetime | None = None, days: int = VALID_DAYS, name: str = ""
) -> EventCA:
    """A self-signed CA that may sign server certificates only (CA:true, path length 0),
    named after the day it was made so that a person can tell two events' ca.crt apart."""
    start = _now(now) - BACKDATE
    key = _new_key()
    name = name or f"kiosk event CA {start + BACKDATE:%Y-%m-%d %H:%M} UTC"
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + BACKDATE + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return EventCA(certificate=certificate, key=key)


def _normal(host: str) -> str:
    """A host as the certificate and libpq compare it: an address in its usual form, a name
    in lower case (libpq compares names case-blind)."""
    host = host.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower().rstrip(".")


def _san(host: str) -> x509.GeneralName:
    """An address as an IP SAN (libpq checks an address against those), a name as a DNS SAN."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _clean_hosts(hosts: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(_normal(h) for h in hosts if h.strip().strip("[]")))
    if not cleaned:
        raise ValueError("a server certificate needs at least one host name or address")
    return cleaned


def issue_server_cert(
    ca: EventCA,
    hosts: list[str] | tuple[str, ...],
    *,
    now: datetime | None = None,
    days: int = VALID_DAYS,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A server certificate for ``hosts`` signed by ``ca``, never outliving the CA."""
    names = _clean_hosts(hosts)
    start = _now(now) - BACKDATE
    end = min(start + BACKDATE + timedelta(days=days), ca.certificate.not_valid_after_utc)
    key = _new_key()
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(max(start, ca.certificate.not_valid_before_utc))
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_san(h) for h in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return certificate, key


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(folder, 0o700)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` so that no other account ever sees it, not even for a moment: created
    0600 under a temporary name in a 0700 folder, then renamed over ``path``."""
    partial = path.with_name(f".{path.name}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(descriptor, 0o600)  # an older partial file keeps its mode otherwise
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(partial, path)
    sync_folder(path.parent)


def write_event_tls(
    out_dir: Path,
    hosts: list[str],
    *,
    now: datetime | None = None,
    days: int = VALID_DAYS,
    ca: EventCA | None = None,
) -> TlsFiles:
    """Make the event CA and the server's certificate for ``hosts`` (addresses and names the
    stations use for the server) and write them to ``out_dir`` (made 0700):

    - ``ca.crt``: the event CA, for every station (public; it holds no key);
    - ``server.crt`` and ``server.key`` (0600): for PostgreSQL's ssl_cert_file and ssl_key_file.

    Existing files of these names are replaced. ``ca`` reuses a CA made by ``make_event_ca``
    (tests; a fresh one is made otherwise, and its key is forgotten).
    """
    out_dir = Path(out_dir)
    names = _clean_hosts(hosts)
    authority = ca or make_event_ca(now=now, days=days)
    certificate, key = issue_server_cert(authority, names, now=now, days=days)
    _private_folder(out_dir)
    files = TlsFiles(
        folder=out_dir,
        ca_cert=out_dir / CA_FILE,
        server_cert=out_dir / SERVER_CERT_FILE,
        server_key=out_dir / SERVER_KEY_FILE,
        hosts=names,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(files.server_key, key_pem)
    write_atomic(files.server_cert, certificate.public_bytes(serialization.Encoding.PEM))
    write_atomic(files.ca_cert, authority.certificate.public_bytes(serialization.Encoding.PEM))
    return files


def _conf_string(value: str) -> str:
    # postgresql.conf reads backslashes as escapes: a Windows path is written with slashes,
    # which PostgreSQL on Windows accepts; a quote is doubled.
    return "'" + value.replace("\\", "/").replace("'", "''") + "'"


def postgresql_conf_lines(cert: Path, key: Path) -> list[str]:
    """The postgresql.conf lines that turn TLS on with this certificate and key (the paths as
    the server will find them: where the coordinator copied the files)."""
    return [
        "ssl = on",
        f"ssl_cert_file = {_conf_string(str(cert))}",
        f"ssl_key_file = {_conf_string(str(key))}",
    ]


def data_folder_conf_lines() -> list[str]:
    """The postgresql.conf lines for server.crt and server.key copied into the server's data
    folder, where PostgreSQL looks for a file name without a folder: what the steps print."""
    return postgresql_conf_lines(Path(SERVER_CERT_FILE), Path(SERVER_KEY_FILE))


def server_steps(files: TlsFiles) -> list[str]:
    """The steps left to the coordinator for TLS, in words, for ``kiosk db setup`` to print."""
    return [
        _(
            "Copy {cert} and {key} to the database server's data folder (`SHOW data_directory`) "
            "and make the server's user own them (on Linux: sudo chown postgres:postgres "
            "server.crt server.key); on Linux and macOS PostgreSQL refuses to start unless "
            "server.key is readable by that user alone (chmod 600 server.key)."
        ).format(cert=files.server_cert, key=files.server_key),
        _(
            "Add these lines at the end of postgresql.conf (`SHOW config_file`), so that they "
            "override any earlier ssl lines, then reload the server (SELECT pg_reload_conf();); "
            "file names without a folder are read from the data folder:"
        ),
        *(f"    {line}" for line in data_folder_conf_lines()),
        _(
            "Give every station the event CA {ca}: save it as {name} in the station's data "
            "folder, or set KIOSK_DB_CA to its path. It holds no secret."
        ).format(ca=files.ca_cert, name=STATION_CA_FILE),
        _(
            "The certificates are valid until {end:%Y-%m-%d} and for these server names only: "
            "{hosts}. Stations must use one of these names in the database URL."
        ).format(end=files.not_after, hosts=", ".join(files.hosts)),
    ]


def ssl_cause(error: BaseException) -> ssl.SSLError | None:
    """The TLS error under an HTTP client's error, if TLS was the cause."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def tls_reason(error: ssl.SSLError) -> str:
    """The TLS error in a few words (the certificate check's own message when it has one)."""
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return str(error.verify_message)
    return str(error.reason or error).replace("_", " ").lower()


# -- the client's rule ------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (a name, an address, a socket or none): the one
    rule for where plain connections are still allowed (database, booth gateway)."""
    host = host.strip().strip("[]")
    if not host or host.startswith(("/", "@")):  # the default or a unix-domain socket
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _hosts(url: URL) -> list[str]:
    """The server names libpq will check the certificate against (not ``hostaddr``: libpq
    connects there but verifies the host name)."""
    names: list[str] = []
    if url.host:
        names.extend(url.host.split(","))
    extra = url.query.get("host")
    for item in (extra,) if isinstance(extra, str) else (extra or ()):
        for part in item.split(","):
            # SQLAlchemy's multihost form "host:port"; a socket folder has no port
            names.append(part if part.startswith("/") else part.rsplit(":", 1)[0])
    if not names:
        names.extend(os.environ.get("PGHOST", "").split(","))
    return names


def _default_ca(data_dir: Path) -> Path:
    env = os.environ.get(ENV_CA, "").strip()
    return Path(env).expanduser() if env else data_dir / STATION_CA_FILE


def client_policy(url: URL, data_dir: Path) -> URL:
    """``url`` as a station may use it: to a server that is not this machine only with
    ``sslmode=verify-full`` and a readable event CA (the URL's ``sslrootcert``, else
    ``KIOSK_DB_CA``, else ``event-ca.crt`` in ``data_dir``). Raises ``DatabaseError`` with one
    sentence, before any connection, for a weaker sslmode or a missing CA.

    To loopback (127.0.0.0/8, ::1, localhost, a local socket) any sslmode stays allowed, and
    an explicit verify-full there gets the same CA.
    """
    if url.get_backend_name() != "postgresql":
        return url
    remote = [h for h in _hosts(url) if not is_loopback(h)]
    mode = str(url.query.get("sslmode") or "").strip().lower()
    if remote:
        if mode in WEAK_SSLMODES:
            raise DatabaseError(
                _(
                    "The database URL asks for sslmode={mode} to {host}; over the network kiosk "
                    "connects only with sslmode=verify-full and the event CA, so remove "
                    "sslmode from the URL."
                ).format(mode=mode, host=remote[0])
            )
        if mode and mode != SAFE_SSLMODE:
            raise DatabaseError(
                _("The database URL has an unknown sslmode={mode}; remove it.").format(mode=mode)
            )
        mode = SAFE_SSLMODE
    if mode != SAFE_SSLMODE:
        return url
    given = str(url.query.get("sslrootcert") or "").strip()
    if given == "system":  # libpq: the operating system's trusted roots, verify-full only
        return url.update_query_dict({"sslmode": SAFE_SSLMODE})
    ca = Path(given).expanduser() if given else _default_ca(data_dir)
    problem = _unreadable(ca)
    if problem is not None:
        raise DatabaseError(
            _(
                "The event CA file {path} {problem}: copy the ca.crt that “kiosk db setup” "
                "wrote to {path} (or set KIOSK_DB_CA to where it is)."
            ).format(path=ca, problem=problem)
        )
    return url.update_query_dict({"sslmode": SAFE_SSLMODE, "sslrootcert": str(ca)})


def _unreadable(path: Path) -> str | None:
    """None if ``path`` holds at least one certificate in PEM, else what is wrong, in words."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _("is missing")
    except OSError as error:
        return _("cannot be read ({reason})").format(reason=error.strerror or error)
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        return _("is not a certificate")
    return None


# -- a refused connection, in words -----------------------------------------------------------


def tls_failure(url: URL, error: BaseException, *, now: datetime | None = None) -> str | None:
    """One sentence for a connection that TLS refused, or None when TLS was not the cause.

    libpq says "certificate verify failed" both for a certificate of another CA and for an
    expired one; to tell them apart, the server's certificate is fetched once more without
    checking it and compared with the CA file and the clock.
    """
    text = _error_text(error).lower()
    host = (_hosts(url) or ["localhost"])[0]
    ca = str(url.query.get("sslrootcert") or "")
    ca_shown = ca or "~/.postgresql/root.crt"  # libpq's own default
    if "server does not support ssl" in text:
        return _(
            "The database server {host} does not offer TLS, so kiosk did not connect: turn on "
            "ssl in its postgresql.conf as “kiosk db setup” printed."
        ).format(host=host)
    if "no pg_hba.conf entry" in text:
        if str(url.query.get("sslmode") or "") == "disable":
            return _(
                "The database server {host} accepts only encrypted connections: remove "
                "sslmode from the database URL."
            ).format(host=host)
        # libpq tried TLS (or the server has none) and then plain: no line admits this role.
        return _(
            "The database server {host} has no pg_hba.conf line that lets {user} into the "
            "database {db} from this computer: add the hostssl line that “kiosk db setup” "
            "printed for it, then reload the server."
        ).format(host=host, user=url.username or "", db=url.database or "")
    if "does not match host name" in text:
        return _(
            "The database server's certificate is not for {host}: use the server name given "
            "by “kiosk db setup” in the URL, or make the certificate again for this name."
        ).format(host=host)
    if "root certificate file" in text:
        return _(
            "The event CA file {path} is missing or cannot be read: copy the ca.crt that "
            "“kiosk db setup” wrote there."
        ).format(path=ca_shown)
    if "certificate verify failed" in text:
        if _expired(url, Path(ca) if ca else None, _now(now)):
            return _(
                "The database server's certificate has expired: make new certificates with "
                "“kiosk db setup” and give the stations the new ca.crt."
            )
        return _(
            "The database server's certificate was not issued by the event CA in {path}: "
            "copy this event's ca.crt from “kiosk db setup” to this station."
        ).format(path=ca_shown)
    return None


def _error_text(error: BaseException) -> str:
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(parts) < 5:
        parts.append(str(current))
        current = getattr(current, "orig", None) or current.__cause__
    return " ".join(parts)


def _expired(url: URL, ca_file: Path | None, now: datetime) -> bool:
    """Whether the certificate the server presents, or the CA in ``ca_file`` that issued it,
    is outside its validity at ``now``."""
    certificate = server_certificate(url)
    if certificate is None:
        return False
    chain = [certificate]
    if ca_file is not None:
        try:
            authorities = x509.load_pem_x509_certificates(ca_file.read_bytes())
        except (OSError, ValueError):
            authorities = []
        chain += [c for c in authorities if c.subject == certificate.issuer]
    return any(not (c.not_valid_before_utc <= now <= c.not_valid_after_utc) for c in chain)


def server_certificate(url: URL, timeout: float = 3.0) -> x509.Certificate | None:
    """The certificate a PostgreSQL server presents, unchecked (for saying what is wrong with
    it; never for trusting it), or None when it cannot be had."""
    hostaddr = str(url.query.get("hostaddr") or "").split(",")[0]
    host = hostaddr or (_hosts(url) or [""])[0]
    if not host or host.startswith(("/", "@")):
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, url.port or 5432), timeout=timeout) as raw:
            raw.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest
            if raw.recv(1) != b"S":
                return None
            with context.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    return x509.load_der_x509_certificate(der) if der else None
