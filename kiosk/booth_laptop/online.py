"""A merchant booth on the venue LAN: every slip checked and recorded through the booth gateway.

Offline, a booth decides alone from its pack and its own file, and a slip redeemed at two
booths of one merchant only shows in reconciliation. Online (``kiosk booth connect URL``, or
"Event database…" in the booth window) it asks the booth gateway (``kiosk booth serve``,
gateway/booth_api.py) before serving: a slip redeemed at another booth, or voided since the
pack was made, is refused there and then. The booth holds no database URL and no database
password: only its pack, the gateway's https address and the event's CA file.

A redemption is written in the booth's file with the file's write lock held, sent to the
gateway, which records it first under the slip-row lock with the booth's uid, and committed
here on its answer; so two booths scanning one slip at once serve it once. When the answer
is lost (the LAN went at that moment) the booth serves from its pack with the same uid: had
the gateway recorded it, the catch-up's bundle finds that uid known and adds nothing, and the
same request id asked again is answered as the first time.

When the gateway does not answer (connect 2 s, read 5 s) the booth falls back to offline mode
by itself (``online`` turns False, the window shows a banner) and keeps serving from its pack;
``catch_up`` sends whatever the event database has not got yet once it answers again, exactly
as ``kiosk booth push`` does.
"""

from __future__ import annotations

import json
import os
import ssl
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from kiosk.booth_laptop.booth import Booth, Confirmed, Scanner, ScanResult, require_staff_name
from kiosk.errors import KioskError
from kiosk.i18n import _, get_language
from kiosk.lan_tls import is_loopback, ssl_cause, tls_reason
from kiosk.models import SlipStatus
from kiosk.redemption_bundle import BundleRedemption
from kiosk.services.booths import BundleImport, ImportedConflict, OnlineRefused, SlipState
from kiosk.slipcode import Verdict

GATEWAY_URL = "gateway_url"
GATEWAY_CA = "gateway_ca"
OLD_EVENT_URL = "event_db_url"  # a database URL an older kiosk kept here: forgotten
ENV_CA = "KIOSK_LAN_CA"
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0


class GatewayDown(KioskError):
    """The gateway did not answer (or not as the gateway): the booth works offline."""


class GatewayRefused(OnlineRefused):
    """The gateway answered with a refusal in words (``status``; a slip's ``verdict``)."""

    def __init__(self, sentence: str, status: int, verdict: str = "") -> None:
        super().__init__(sentence)
        self.status = status
        self.verdict = verdict


_LAN_ERRORS = (KioskError, OSError)


def check_gateway_url(url: str) -> str:
    """The gateway's address as typed, checked: https://, or http:// to this laptop only (a
    rehearsal); a database URL is refused: a booth never holds one."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise KioskError(
            _(
                "Type the booth gateway's address the coordinator gives you, e.g. "
                "https://192.168.1.10:8443 (a booth never uses a database address)."
            )
        )
    if scheme == "http" and not is_loopback(parts.hostname):
        raise KioskError(
            _(
                "The booth gateway on the LAN is reached over HTTPS only (https://…): plain "
                "HTTP would carry the slips readable."
            )
        )
    return url


def gateway_url(booth: Booth) -> str:
    """The booth gateway this booth works online with ("" = offline only). A database URL an
    older version kept in the booth's file is erased here: the booth must hold none."""
    if booth.setting(OLD_EVENT_URL):
        booth.set_setting(OLD_EVENT_URL, "")
    return booth.setting(GATEWAY_URL)


def gateway_ca(booth: Booth) -> str:
    """The event CA file the gateway's certificate is checked with: the booth's setting, else
    ``$KIOSK_LAN_CA`` ("" = the system's CAs)."""
    return booth.setting(GATEWAY_CA) or os.environ.get(ENV_CA, "")


def set_gateway(booth: Booth, url: str, ca_file: str = "") -> None:
    """Remember the gateway ("" = offline only) and its CA file."""
    booth.set_setting(GATEWAY_URL, check_gateway_url(url) if url.strip() else "")
    booth.set_setting(GATEWAY_CA, ca_file.strip())


class OnlineBooth(Scanner):
    """``Booth``'s scan and redeem, checked with and recorded through the booth gateway."""

    def __init__(
        self,
        booth: Booth,
        url: str,
        *,
        ca_file: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.booth = booth
        self.url = check_gateway_url(url)
        self.online: bool | None = None  # None: not tried yet
        self.error = ""
        # A delivery or complaint recorded here the event database has not got yet.
        self._unsent = False
        ca = ca_file if ca_file is not None else gateway_ca(booth)
        try:
            context = ssl.create_default_context(cafile=ca or None)
        except (OSError, ssl.SSLError) as error:
            raise KioskError(
                _("The event CA file {path} cannot be read: {reason}").format(path=ca, reason=error)
            ) from None
        self.client = httpx.Client(
            base_url=self.url,
            verify=context,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    # -- the link ----------------------------------------------------------------------------

    def went_offline(self, reason: object) -> None:
        self.online = False
        self.error = str(reason).strip().splitlines()[0] if str(reason).strip() else ""

    def came_back(self) -> None:
        self.online = True
        self.error = ""

    def _call(self, path: str, body: bytes | None = None) -> dict[str, Any]:
        """One sealed request; the answer's JSON. ``GatewayDown`` when there is no answer,
        ``GatewayRefused`` with the gateway's sentence when it refuses."""
        method = "GET" if body is None else "POST"
        data = body or b""
        headers = {
            **self.booth.seal(method, path, data),
            "Accept": "application/json",
            "Accept-Language": "en" if get_language() == "en" else "zh-CN",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.client.request(method, path, content=data, headers=headers)
        except httpx.TransportError as error:
            tls = ssl_cause(error)
            if tls is not None:
                raise GatewayDown(
                    _(
                        "The booth gateway's certificate is not trusted ({reason}): choose the "
                        "event's CA file."
                    ).format(reason=tls_reason(tls))
                ) from None
            raise GatewayDown(
                _("The booth gateway at {url} does not answer ({reason}).").format(
                    url=self.url, reason=str(error) or type(error).__name__
                )
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise GatewayDown(
                _("{url} answered something that is not the booth gateway (HTTP {status}).").format(
                    url=self.url, status=response.status_code
                )
            )
        if response.status_code >= 500:
            raise GatewayDown(str(answer.get("error") or response.status_code))
        if response.status_code != 200:
            raise GatewayRefused(
                str(answer.get("error") or response.status_code),
                response.status_code,
                str(answer.get("verdict") or ""),
            )
        return answer

    def ping(self) -> dict[str, Any]:
        """The gateway's status for this booth's seal; raises in words when it does not
        answer, or refuses this booth (another event, merchant or seal)."""
        answer = self._call("/v1/status")
        self.came_back()
        return answer

    def probe(self) -> bool:
        """Whether the gateway answers now (the window's poll): sets ``online``."""
        try:
            self.ping()
        except _LAN_ERRORS as error:
            self.went_offline(error)
            return False
        return True

    # -- scanning ----------------------------------------------------------------------------

    def check(self, text: str) -> ScanResult:
        """The verdict before serving: the booth's own, then the event database's."""
        result = self.booth.check(text)
        if result.verdict != Verdict.VALID or result.serial is None or self.online is False:
            return result
        try:
            answer = self._call("/v1/slips/check", _json({"code": text}))
            state = _state(answer)
        except GatewayRefused as refused:
            if refused.verdict:  # the gateway's own reading of the code disagrees
                return _refused(result, refused.verdict)
            self.went_offline(refused)
            return result
        except _LAN_ERRORS as error:
            self.went_offline(error)
            return result
        self.came_back()
        return _judged(result, state)

    def redeem(
        self, text: str, staff_name: str = "", *, request_id: str | None = None
    ) -> ScanResult:
        """Serve the slip once across every booth; offline, serve it from the pack alone."""
        result = self.booth.check(text)
        if result.verdict == Verdict.ALREADY_REDEEMED and request_id:
            # Perhaps this very request redeemed it here: the booth's own answer says so.
            return self.booth.redeem(text, staff_name, request_id=request_id)
        if result.verdict != Verdict.VALID or result.serial is None:
            return result
        staff_name = require_staff_name(staff_name)  # before anything is locked or served
        if self.online is False:
            return self.booth.redeem(text, staff_name, request_id=request_id)
        told: dict[str, Any] = {}

        def confirm(redemption: BundleRedemption) -> Confirmed:
            """Asked with the redemption written here, not committed: the gateway records it
            first. DELIVERED when it served it (the booth's commit marks it delivered), KEPT
            when it did not answer (served from the pack), REFUSED otherwise."""
            body = {
                "code": text,
                "uid": redemption.uid,
                "seq": redemption.seq,
                "staff_name": redemption.staff_name,
                "redeemed_at": redemption.redeemed_at.isoformat(),
            }
            try:
                answer = self._call("/v1/slips/redeem", _json(body))
                told["state"] = _state(answer)
                told["served"] = bool(answer.get("served"))
            except GatewayRefused as refused:
                if refused.verdict:
                    told["verdict"] = refused.verdict
                    return Confirmed.REFUSED
                self.went_offline(refused)
                return Confirmed.KEPT  # another event's or merchant's gateway: from the pack
            except _LAN_ERRORS as error:
                # No answer: perhaps recorded there, perhaps not. Served from the pack with
                # this uid; the catch-up's bundle settles it either way.
                self.went_offline(error)
                return Confirmed.KEPT
            self.came_back()
            return Confirmed.DELIVERED if told["served"] else Confirmed.REFUSED

        done = self.booth.redeem(text, staff_name, request_id=request_id, confirm=confirm)
        if "verdict" in told:
            return _refused(result, told["verdict"])
        if done.redeemed and told.get("served"):
            if self.booth.delivers_on_redeem:  # the service is the redemption: say so now
                self._send(done.serial or 0)
            return _online(done)
        if done.redeemed or done.replayed or "state" not in told:
            return done  # served offline (catch-up takes it), or here before
        return _judged(done, told["state"])

    # -- after the redemption (issue #21) ----------------------------------------------------

    def deliver(self, serial: int, staff_name: str) -> datetime:
        """``Booth.deliver``, then straight to the event database when it answers."""
        at = self.booth.deliver(serial, staff_name)
        self._send(serial)
        return at

    def complain(self, serial: int, category: str, complaint: str, staff_name: str) -> str:
        """``Booth.complain``, then straight to the event database when it answers."""
        uid = self.booth.complain(serial, category, complaint, staff_name)
        self._send(serial)
        return uid

    def _send(self, serial: int) -> None:
        """One slip's delivery and complaints, as a bundle without redemptions (the same MAC
        and the same idempotent import). Offline, or the LAN failing, it waits for the next
        catch-up or the bundle on the USB stick, which carry everything."""
        if self.online is False:
            self._unsent = True
            return
        data, _count = self.booth.bundle(only=serial)
        try:
            self._call("/v1/bundles", data)
        except _LAN_ERRORS as error:
            self._unsent = True
            if isinstance(error, GatewayRefused):
                return
            self.went_offline(error)
            return
        self.came_back()

    def catch_up(self, *, everything: bool = False) -> BundleImport | None:
        """Send what the event database has not got yet (after the LAN came back); with
        ``everything`` the whole bundle even when nothing seems to wait (``kiosk booth
        push``: deliveries and complaints recorded before this process started)."""
        if not everything and not self.booth.pending() and not self._unsent:
            return None
        data, _count = self.booth.bundle()
        try:
            answer = self._call("/v1/bundles", data)
            result = _imported(answer, self.booth)
        except _LAN_ERRORS as error:
            if isinstance(error, OnlineRefused):
                raise
            self.went_offline(error)
            return None
        self.booth.mark_delivered(result.up_to_seq)
        self._unsent = False
        self.came_back()
        return result


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _time(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


def _state(answer: dict[str, Any]) -> SlipState:
    """The slip's state from the gateway's answer; ``GatewayDown`` if it is not one."""
    try:
        slip = answer["slip"]
        return SlipState(
            str(slip["status"]),
            _time(slip.get("redeemed_at")),
            str(slip.get("staff_name") or ""),
            str(slip.get("booth_id") or ""),
        )
    except (KeyError, TypeError, ValueError):
        raise GatewayDown(_("The booth gateway's answer is not what this booth expects.")) from None


def _imported(answer: dict[str, Any], booth: Booth) -> BundleImport:
    info = booth.info
    assert info is not None
    try:
        return BundleImport(
            info.merchant_code,
            info.booth_id,
            int(answer["added"]),
            int(answer["duplicates"]),
            [
                ImportedConflict(int(c["serial"]), str(c["conflict"]), int(c["booth_seq"]))
                for c in answer["conflicts"]
            ],
            int(answer["up_to_seq"]),
            float(answer.get("install_skew_s") or 0),
            float(answer.get("import_skew_s") or 0),
            int(answer.get("deliveries") or 0),
            int(answer.get("complaints") or 0),
        )
    except (KeyError, TypeError, ValueError):
        raise GatewayDown(_("The booth gateway's answer is not what this booth expects.")) from None


def _online(result: ScanResult) -> ScanResult:
    return ScanResult(**{**result.__dict__, "online": True})


def _refused(result: ScanResult, verdict: str) -> ScanResult:
    """The gateway read the code otherwise (forged, another merchant's, past its date)."""
    try:
        judged = Verdict(verdict)
    except ValueError:
        judged = Verdict.BAD_SIGNATURE
    return ScanResult(**{**result.__dict__, "verdict": judged, "online": True, "redeemed": False})


def _judged(result: ScanResult, state: SlipState) -> ScanResult:
    """The booth's VALID verdict corrected by what the event database knows."""
    if state.status == SlipStatus.REDEEMED:
        return ScanResult(
            **{
                **result.__dict__,
                "verdict": Verdict.ALREADY_REDEEMED,
                "redeemed_at": state.redeemed_at,
                "redeemed_by": state.staff_name,
                "online": True,
                "elsewhere": True,
            }
        )
    if state.status == SlipStatus.VOIDED:
        return ScanResult(**{**result.__dict__, "verdict": Verdict.REVOKED, "online": True})
    if state.status == SlipStatus.RELEASED:
        return ScanResult(**{**result.__dict__, "verdict": Verdict.EXPIRED, "online": True})
    return _online(result)
