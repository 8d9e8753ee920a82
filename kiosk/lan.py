"""Running the event on the venue LAN: the set-up a coordinator follows, word for word.

``serve_help`` is what ``kiosk db serve-help`` prints (and the README repeats): install
PostgreSQL on the laptop or small server that holds the event, create the role and the
database, listen on the LAN and let the stations' subnet in, create the tables, copy the
prepared event, and the URL every station then uses. The commands are filled in with this
machine's LAN address and a fresh random password, so they can be pasted as they are.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass

from sqlalchemy.engine import URL

from kiosk.i18n import _


def lan_address() -> str | None:
    """This machine's address on the LAN (the one its default route uses), if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routes like the internet, sends nothing
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@dataclass(frozen=True)
class ServePlan:
    host: str
    subnet: str
    name: str
    user: str
    password: str
    port: int = 5432

    @property
    def url(self) -> str:
        return URL.create(
            "postgresql",
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.name,
        ).render_as_string(hide_password=False)


def plan(
    host: str | None = None,
    subnet: str | None = None,
    name: str = "kiosk_event",
    user: str = "kiosk",
    password: str | None = None,
) -> ServePlan:
    host = host or lan_address() or "192.168.1.10"
    if subnet is None:
        try:
            subnet = str(ipaddress.ip_network(f"{host}/24", strict=False))
        except ValueError:  # a host name rather than an address
            subnet = "192.168.1.0/24"
    return ServePlan(host, subnet, name, user, password or secrets.token_urlsafe(12))


def serve_help(p: ServePlan, source_url: str) -> str:
    """The set-up, step by step, with this plan's values in every command."""
    sql_role = f"CREATE ROLE {p.user} LOGIN PASSWORD '{p.password}'"
    sql_db = f"CREATE DATABASE {p.name} OWNER {p.user} ENCODING 'UTF8' TEMPLATE template0"
    lines = [
        _("Run the event database on PostgreSQL (one laptop or small server on the venue LAN)"),
        "",
        _(
            "1. Install PostgreSQL (14 or later) on the machine that holds the event ({host}):"
        ).format(host=p.host),
        "     sudo apt-get install postgresql        # Debian, Ubuntu",
        "     https://www.postgresql.org/download/    # Windows, macOS",
        _("2. Create the role and the database (kiosk creates the tables itself):"),
        f'     sudo -u postgres psql -c "{sql_role}"',
        f'     sudo -u postgres psql -c "{sql_db}"',
        _("3. Listen on the LAN. In postgresql.conf (the file `SHOW config_file` names) set:"),
        "     listen_addresses = '*'",
        _("   and let the stations' subnet in: add this line to pg_hba.conf (`SHOW hba_file`):"),
        f"     host  {p.name}  {p.user}  {p.subnet}  scram-sha-256",
        _(
            "   then restart PostgreSQL and open TCP port {port} to {subnet} in the firewall:"
        ).format(port=p.port, subnet=p.subnet),
        "     sudo systemctl restart postgresql",
        f"     sudo ufw allow from {p.subnet} to any port {p.port} proto tcp",
        _("4. Create the tables and move the prepared event there:"),
        f"     kiosk init --db '{p.url}'",
        f"     kiosk event copy --from '{source_url}' --to '{p.url}'",
        _("5. Every staff station (reception, service desks, activation, dashboard)"),
        _("   uses this URL. In the app: “Event database…” on the sign-in screen; each laptop"),
        _("   remembers it. On the command line: kiosk --db URL, or KIOSK_DB=URL."),
        f"     {p.url}",
        _("   The URL holds the password: type it on the stations, never post it."),
        _("6. The merchants' online booths never get this URL. One staff laptop serves them"),
        _("   the booth gateway (HTTPS, with the event's server certificate):"),
        f"     kiosk booth serve --db '{p.url}' --cert server.crt --key server.key",
        _("   and each booth connects to it with the event's CA file:"),
        f"     kiosk booth connect https://{p.host}:8443 --ca event-ca.crt",
        "",
        _("Check from a station:"),
        f"     kiosk --db '{p.url}' info",
        _("Back up during the day (on the server):"),
        f"     pg_dump -Fc -U {p.user} -h 127.0.0.1 {p.name} > event-$(date +%H%M).dump",
        _(
            "Stations see each other's changes within a second; when the server cannot be "
            "reached they say so, keep what was typed and retry by themselves."
        ),
    ]
    return "\n".join(lines)
