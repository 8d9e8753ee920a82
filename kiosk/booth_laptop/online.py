"""A merchant booth on the venue LAN: redemptions straight into the event database.

Offline, a booth decides alone from its pack and its own file, and a slip redeemed at two
booths of one merchant only shows in reconciliation. Online (``kiosk booth connect URL``, or
"Event database…" in the booth window) it asks the event database before serving: a slip
redeemed at another booth, or voided since the pack was made, is refused there and then. A
redemption is committed in the booth's file first and recorded in the event database in the
same step, under a lock on the slip row, so two booths scanning one slip at once serve it
once.

When the LAN is gone the booth falls back to offline mode by itself (``online`` turns False,
the window shows a banner) and keeps serving from its pack; ``catch_up`` pushes whatever the
event database has not got yet once it answers again, exactly as ``kiosk booth push`` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exc

from kiosk import credentials
from kiosk.booth_laptop.booth import Booth, Scanner, ScanResult, require_staff_name
from kiosk.db import Database, connect_lazily
from kiosk.errors import KioskError
from kiosk.models import SlipStatus
from kiosk.services.booths import (
    BundleImport,
    OnlineRefused,
    SlipState,
    deliver_bundle,
    redeem_online,
    slip_state,
)
from kiosk.slipcode import Verdict

EVENT_URL = "event_db_url"
_LAN_ERRORS = (KioskError, exc.SQLAlchemyError, OSError)


def event_url(booth: Booth) -> str:
    """The event database this booth pushes to ("" = offline only), its password recalled
    from the credential store; one an older kiosk kept in the booth file in clear moves
    there now (``kiosk.credentials.protect``, which logs it)."""
    stored = booth.setting(EVENT_URL)
    protected = credentials.protect(stored)
    if protected.stored != stored:
        booth.set_setting(EVENT_URL, protected.stored)
    return protected.url


def set_event_url(booth: Booth, url: str) -> None:
    """Remember ``url``: the booth file keeps it without its password (``kiosk.credentials``;
    in clear only with ``KIOSK_CLEAR_PASSWORDS=1`` on a computer without a credential store)."""
    booth.set_setting(EVENT_URL, credentials.remember(url.strip()))


class OnlineBooth(Scanner):
    """``Booth``'s scan and redeem, checked with and recorded in the event database."""

    def __init__(self, booth: Booth, url: str) -> None:
        self.booth = booth
        self.url = url
        self.database: Database = connect_lazily(url)
        self.online: bool | None = None  # None: not tried yet
        self.error = ""
        # A delivery or complaint recorded here the event database has not got yet.
        self._unsent = False

    def close(self) -> None:
        self.database.dispose()

    # -- the link ----------------------------------------------------------------------------

    def went_offline(self, reason: object) -> None:
        self.online = False
        self.error = str(reason).strip().splitlines()[0] if str(reason).strip() else ""

    def came_back(self) -> None:
        self.online = True
        self.error = ""

    def _ids(self) -> dict[str, Any]:
        info = self.booth.info
        assert info is not None
        return {
            "event_code": info.event_code,
            "merchant_code": info.merchant_code,
            "merchant_id": info.merchant_id,
        }

    # -- scanning ----------------------------------------------------------------------------

    def check(self, text: str) -> ScanResult:
        """The verdict before serving: the booth's own, then the event database's."""
        result = self.booth.check(text)
        if result.verdict != Verdict.VALID or result.serial is None or self.online is False:
            return result
        try:
            state = slip_state(self.database.unit_of_work(), serial=result.serial, **self._ids())
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
        local: list[ScanResult] = []
        failed: list[BaseException] = []

        def serve():  # type: ignore[no-untyped-def]
            try:
                done = self.booth.redeem(text, staff_name, request_id=request_id)
            except KioskError as error:  # the booth's own disk: not the LAN
                failed.append(error)
                raise
            local.append(done)
            return self.booth.redemption(done.seq) if done.redeemed and done.seq else None

        try:
            state, served = redeem_online(
                self.database.unit_of_work(),
                booth_id=self.booth.database.booth_id,
                serial=result.serial,
                serve=serve,
                clock=self.booth.clock,
                **self._ids(),
            )
        except _LAN_ERRORS as error:
            if failed:
                raise failed[0] from None
            self.went_offline(error)
            if local:  # served here already: the event database gets it on catch-up
                return local[0]
            return self.booth.redeem(text, staff_name, request_id=request_id)
        self.came_back()
        if served is not None:
            self.booth.delivered(served.seq)
            if self.booth.delivers_on_redeem:  # the service is the redemption: say so now
                self._send(served.serial)
            return _online(local[0])
        if local:  # redeemed here before (offline): catch-up takes it to the event database
            return local[0]
        return _judged(result, state)

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
            deliver_bundle(
                self.database.unit_of_work(), data, clock=self.booth.clock, station="booth"
            )
        except _LAN_ERRORS as error:
            self._unsent = True
            if isinstance(error, OnlineRefused):
                return
            self.went_offline(error)
            return
        self.came_back()

    def catch_up(self) -> BundleImport | None:
        """Push what the event database has not got yet (after the LAN came back)."""
        if not self.booth.pending() and not self._unsent:
            return None
        data, _count = self.booth.bundle()
        try:
            result = deliver_bundle(
                self.database.unit_of_work(), data, clock=self.booth.clock, station="booth"
            )
        except _LAN_ERRORS as error:
            if isinstance(error, OnlineRefused):
                raise
            self.went_offline(error)
            return None
        self.booth.mark_delivered(result.up_to_seq)
        self._unsent = False
        self.came_back()
        return result


def _online(result: ScanResult) -> ScanResult:
    return ScanResult(**{**result.__dict__, "online": True})


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
