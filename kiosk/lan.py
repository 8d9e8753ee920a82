"""Running the event on the venue LAN: the set-up a coordinator follows, word for word.

``serve_help`` is what ``kiosk db serve-help`` prints (and the README repeats): install
PostgreSQL on the laptop or small server that holds the event, let ``kiosk db setup`` make the
database with an owner and a station account and the event's TLS certificates, do the few
server-side steps it prints (hostssl lines, TLS, listening on the LAN), copy the prepared
event with the owner's URL, then give the stations the station URL and the event CA and the
booths the gateway's address. Least privilege (issue #29): no station holds the owner's
account, no booth holds any database account, nothing crosses the LAN in clear. The commands
are filled in with this machine's LAN address, so they can be pasted as they are.
"""

from __future__ import annotations

import ipaddress
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
    port: int = 5432

    @property
    def station_url(self) -> str:
        """The stations' URL without its password (``kiosk db setup`` makes it and keeps the
        password in its private folder; the app asks for it in its own field)."""
        return URL.create(
            "postgresql",
            username=f"{self.name}_station",
            host=self.host,
            port=self.port,
            database=self.name,
        ).render_as_string(hide_password=False)

    @property
    def gateway_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{GATEWAY_PORT}"


GATEWAY_PORT = 8443  # kiosk booth serve's default


def plan(
    host: str | None = None, subnet: str | None = None, name: str = "kiosk_event"
) -> ServePlan:
    host = host or lan_address() or "192.168.1.10"
    if subnet is None:
        try:
            subnet = str(ipaddress.ip_network(f"{host}/24", strict=False))
        except ValueError:  # a host name rather than an address
            subnet = "192.168.1.0/24"
    return ServePlan(host, subnet, name)


def serve_help(p: ServePlan, source_url: str) -> str:
    """The set-up, step by step, with this plan's values in every command."""
    setup_dir = "~/kiosk-event-setup"
    lines = [
        _("Run the event database on PostgreSQL (one laptop or small server on the venue LAN)"),
        "",
        _(
            "1. Install PostgreSQL (14 or later) and kiosk on the machine that holds the event "
            "({host}):"
        ).format(host=p.host),
        "     sudo apt-get install postgresql        # Debian, Ubuntu",
        "     https://www.postgresql.org/download/    # Windows, macOS",
        _(
            "2. Make the database, its two accounts and the event's certificates in one command "
            "(on that machine, as a PostgreSQL superuser):"
        ),
        f"     kiosk db setup --admin 'postgresql://postgres@127.0.0.1/postgres' "
        f"--name {p.name} --host {p.host} --subnet {p.subnet} --out {setup_dir}",
        _(
            "   The owner account ({name}_owner) holds the tables and is used on this machine "
            "only (kiosk init, event copy, event close, backups); the station account "
            "({name}_station) may do what the stations do and no more: it cannot delete or "
            "change the points journal, the redemptions, the outbox or the audit records."
        ).format(name=p.name),
        _(
            "   The passwords, the URLs and the certificates are in {folder}, readable by you only."
        ).format(folder=setup_dir),
        _(
            "3. Do what the set-up printed: the hostssl lines in pg_hba.conf (`SHOW hba_file`), "
            "TLS and listen_addresses = '*' in postgresql.conf, then reload PostgreSQL and open "
            "TCP port {port} to {subnet} in the firewall:"
        ).format(port=p.port, subnet=p.subnet),
        f"     hostssl  {p.name}  {p.name}_station  {p.subnet}  scram-sha-256",
        f"     sudo ufw allow from {p.subnet} to any port {p.port} proto tcp",
        _("4. Move the prepared event there with the owner's URL (on this machine only):"),
        f"     kiosk event copy --from '{source_url}' --to OWNER_URL",
        _(
            "5. Every staff station (reception, service desks, activation, dashboard) uses the "
            "station URL; its password goes in its own field and the laptop keeps it in the "
            "system's credential store. Give each station the event's ca.crt (“Event "
            "database…” → the certificate file, or save it as event-ca.crt in kiosk's data "
            "folder): off this machine a station connects only over TLS, checking the server "
            "against that certificate."
        ),
        f"     {p.station_url}",
        _("6. The merchants' online booths never get a database account: serve them with"),
        f"     kiosk booth serve --db STATION_URL --cert {setup_dir}/server.crt "
        f"--key {setup_dir}/server.key",
        _("   and give each booth the address {url} and the same ca.crt.").format(
            url=p.gateway_url
        ),
        "",
        _("Check from a station:"),
        f"     kiosk --db '{p.station_url}' info",
        _("Back up during the day (on the server, with the owner's URL):"),
        "     kiosk --db OWNER_URL backup --to /media/usb/kiosk-backups",
        _(
            "Stations see each other's changes within a second; when the server cannot be "
            "reached they say so, keep what was typed and retry by themselves."
        ),
    ]
    return "\n".join(lines)
