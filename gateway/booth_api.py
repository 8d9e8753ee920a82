"""The booth gateway: the merchants' online booths ask it, never the event database.

``kiosk booth serve --db STATION_URL --cert server.crt --key server.key`` runs this Starlette
app behind uvicorn with TLS on a staff laptop that holds the station's database URL. The
booths hold only their merchant pack and the gateway's address and CA file: no database URL,
no password, no database driver. Whoever sits at a booth can ask what the booth may ask (is
this slip free, redeem it, here are my deliveries and complaints) and nothing more.

Why a gateway rather than SECURITY DEFINER functions inside PostgreSQL (issue #29 allows
either): a slip is an Ed25519-signed code and a booth's bundle is MAC'd with the merchant's
secret, both checked in Python (``kiosk.slipcode``, ``kiosk.redemption_bundle``). Checking
them inside PostgreSQL would need extensions (pgcrypto has no Ed25519) and a second copy of
the rules in PL/pgSQL that could drift from the first. Here the gateway calls the very
service functions (``kiosk.services.booths``) the stations use: one copy of the rules, the
same slip-row lock, the same idempotent import, on SQLite as on PostgreSQL.

API version 1, JSON both ways, every error ``{"error": sentence}`` in the request's language
(``Accept-Language``: English or Simplified Chinese, the default):

- ``GET /v1/status``: the event and merchant the request was sealed for (a booth's "connect");
- ``POST /v1/slips/check`` ``{"code"}``: the slip as the event database has it now: free,
  redeemed (when, by whom, at which booth), voided or released; its offer and the customer's
  masked name;
- ``POST /v1/slips/redeem`` ``{"code", "uid", "seq", "staff_name", "redeemed_at"}``: recorded
  under the slip-row lock with the booth's uid before the booth commits it in its own file;
  the same uid again is answered as the first time;
- ``POST /v1/bundles``: a redemption bundle file as ``kiosk booth export`` writes it
  (deliveries, complaints, and the redemptions made offline), imported idempotently.

Every request is sealed by the booth: headers ``X-Kiosk-Event``, ``X-Kiosk-Merchant``,
``X-Kiosk-Merchant-Id``, ``X-Kiosk-Booth``, ``X-Kiosk-Time`` (Unix seconds) and
``X-Kiosk-Mac``, an HMAC-SHA256 over method, path, those values and the body's hash under the
merchant's bundle secret (``kiosk.redemption_bundle.request_message``). The gateway checks it
against the merchant row; a stale time, another merchant's seal, a forged slip or another
merchant's slip is refused in words and nothing is written. The slip itself is verified here
with the event's keys: the booth's verdict is never taken on trust.

All booths of one merchant share its pack's secret, so the seal proves the merchant, not which
of its booths: a booth can claim another booth id of its own merchant. What it can record is
still only that merchant's slips, once each, and every record carries the booth id it claimed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exc
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kiosk import boundedjson as bj
from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.errors import KioskError
from kiosk.i18n import _, speaking
from kiosk.lan_tls import is_loopback
from kiosk.redemption_bundle import (
    BundleError,
    RequestSealError,
    check_request_mac,
    check_request_time,
    peek_bundle,
    request_message,
)
from kiosk.services.booths import (
    BoothSlip,
    OnlineRefused,
    SlipRefused,
    booth_secret,
    check_slip_code,
    deliver_bundle,
    redeem_slip_code,
)

API_VERSION = "v1"
SERVICE = "kiosk booth gateway"
MAX_SMALL = 16 * 1024  # a check or a redemption: a slip code and a few fields
MAX_BUNDLE = 32 * 1024 * 1024  # every redemption of a busy booth, with its complaints
HEADERS = ("event", "merchant", "merchant-id", "booth", "time", "mac")

T = TypeVar("T")


class _Refused(Exception):
    """A request answered with an error sentence (and its HTTP status)."""

    def __init__(self, status: int, sentence: str, **extra: Any) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence
        self.extra = extra


def language_of(request: Request) -> str:
    """The request's language: English when the booth asks for it, else Simplified Chinese."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh_CN"


def _slip_json(slip: BoothSlip) -> dict[str, Any]:
    state = slip.state
    return {
        "serial": slip.serial,
        "status": state.status,
        "redeemed_at": state.redeemed_at.isoformat() if state.redeemed_at else None,
        "staff_name": state.staff_name,
        "booth_id": state.booth_id,
        "offer": {"id": slip.offer_id, "code": slip.offer_code, "name": slip.offer_name},
        "quantity": slip.quantity,
        "points": slip.points,
        "masked_name": slip.masked_name,
    }


def create_app(database: Database, *, clock: Clock | None = None) -> Starlette:
    """The gateway over the event database (the station's URL; its pool serves the requests'
    threads). ``clock`` is the gateway's, for the request window and the slips' dates."""
    clock = clock or Clock()

    async def body_of(request: Request, limit: int) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Refused(413, _("The request is too large; nothing was done."))
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise _Refused(413, _("The request is too large; nothing was done."))
        return bytes(data)

    def sealed(request: Request, body: bytes) -> dict[str, Any]:
        """The booth's identity from a request whose seal and time check out (in a thread)."""
        who, check = seal_of(request, body)
        check(booth_secret(database.unit_of_work(), **who))
        return {**who, "booth_id": request.headers.get("x-kiosk-booth", "")}

    def seal_of(request: Request, body: bytes) -> tuple[dict[str, Any], Callable[[str], None]]:
        """The identity a request claims (headers and time checked) and the check of its seal
        against the merchant's bundle secret: a redemption makes that check inside its own
        transaction, the other requests read the secret first (``sealed``)."""
        values = {name: request.headers.get(f"x-kiosk-{name}", "") for name in HEADERS}
        if not all(values.values()) or not values["merchant-id"].isdigit():
            raise _Refused(
                401, _("The request is not sealed by a booth (its headers are missing).")
            )
        who = {
            "event_code": values["event"],
            "merchant_code": values["merchant"],
            "merchant_id": int(values["merchant-id"]),
        }
        check_request_time(values["time"], clock.now())
        message = request_message(
            method=request.method,
            path=request.url.path,
            timestamp=values["time"],
            booth_id=values["booth"],
            body=body,
            **who,
        )
        return who, lambda secret: check_request_mac(message, values["mac"], secret)

    async def answer(
        request: Request,
        limit: int,
        work: Callable[[dict[str, Any], bytes], T],
        *,
        seal_in_work: bool = False,
    ) -> T:
        """Read the body, check the seal and do the work in a thread, in the request's
        language; every refusal becomes ``_Refused`` with its sentence. With ``seal_in_work``
        the work is given the seal's check (``who["check_seal"]``) and must make it before
        it reads or writes anything else: one transaction instead of two (issue #23)."""
        language = language_of(request)
        with speaking(language):
            body = await body_of(request, limit)

        def run() -> T:
            with speaking(language):
                try:
                    if seal_in_work:
                        claimed, check = seal_of(request, body)
                        booth = request.headers.get("x-kiosk-booth", "")
                        who = {**claimed, "booth_id": booth, "check_seal": check}
                    else:
                        who = sealed(request, body)
                    return work(who, body)
                except RequestSealError as error:
                    raise _Refused(401, str(error)) from None
                except SlipRefused as error:
                    raise _Refused(422, str(error), verdict=error.verdict) from None
                except (OnlineRefused, BundleError) as error:
                    raise _Refused(
                        403 if isinstance(error, OnlineRefused) else 400, str(error)
                    ) from None
                except exc.OperationalError:
                    raise _Refused(
                        503,
                        _("The gateway cannot reach the event database; work offline for now."),
                    ) from None
                except KioskError as error:
                    raise _Refused(400, str(error)) from None

        return await run_in_threadpool(run)

    def fields(body: bytes, *names: str) -> dict[str, Any]:
        try:
            data = bj.loads(body, max_bytes=len(body))  # depth, numbers, keys bounded
        except bj.Malformed:
            data = None
        if not isinstance(data, dict) or any(name not in data for name in names):
            raise KioskError(
                _("The request's body must be JSON with {fields}.").format(fields=", ".join(names))
            )
        return data

    async def status(request: Request) -> JSONResponse:
        def work(who: dict[str, Any], _body: bytes) -> dict[str, Any]:
            return {
                "api": API_VERSION,
                "service": SERVICE,
                "event": who["event_code"],
                "merchant": who["merchant_code"],
            }

        return JSONResponse(await answer(request, MAX_SMALL, work))

    async def check(request: Request) -> JSONResponse:
        def work(who: dict[str, Any], body: bytes) -> dict[str, Any]:
            code = fields(body, "code")["code"]
            who = {k: v for k, v in who.items() if k != "booth_id"}
            slip = check_slip_code(database.unit_of_work(), code=str(code), clock=clock, **who)
            return {"slip": _slip_json(slip)}

        return JSONResponse(await answer(request, MAX_SMALL, work))

    async def redeem(request: Request) -> JSONResponse:
        def work(who: dict[str, Any], body: bytes) -> dict[str, Any]:
            check = who.pop("check_seal")
            try:
                data = fields(body, "code", "uid", "seq", "staff_name", "redeemed_at")
                try:
                    seq = int(data["seq"])
                    redeemed_at = datetime.fromisoformat(str(data["redeemed_at"]))
                    if redeemed_at.tzinfo is None:
                        raise ValueError("naive")
                except (TypeError, ValueError):
                    raise KioskError(
                        _("The redemption's number or time is not valid; nothing was recorded.")
                    ) from None
            except KioskError:
                # The seal is checked before the body is judged, as for every request.
                booth = {k: v for k, v in who.items() if k != "booth_id"}
                check(booth_secret(database.unit_of_work(), **booth))
                raise
            slip, served = redeem_slip_code(
                database.unit_of_work(),
                check_seal=check,
                code=str(data["code"]),
                uid=str(data["uid"]),
                seq=seq,
                staff_name=str(data["staff_name"]),
                redeemed_at=redeemed_at,
                clock=clock,
                **who,
            )
            return {"served": served, "slip": _slip_json(slip)}

        return JSONResponse(await answer(request, MAX_SMALL, work, seal_in_work=True))

    async def bundles(request: Request) -> JSONResponse:
        def work(who: dict[str, Any], body: bytes) -> dict[str, Any]:
            bundle, _body, _mac = peek_bundle(body)
            if (
                bundle.event_code,
                bundle.merchant_code,
                bundle.merchant_id,
                bundle.booth_id,
            ) != (who["event_code"], who["merchant_code"], who["merchant_id"], who["booth_id"]):
                raise OnlineRefused(
                    _("This bundle is not from the booth that sent it; nothing was imported.")
                )
            result = deliver_bundle(database.unit_of_work(), body, clock=clock, station="booth")
            return {
                "added": result.added,
                "duplicates": result.duplicates,
                "conflicts": [
                    {"serial": c.serial, "conflict": c.conflict, "booth_seq": c.booth_seq}
                    for c in result.conflicts
                ],
                "up_to_seq": result.up_to_seq,
                "deliveries": result.deliveries,
                "complaints": result.complaints,
                "install_skew_s": result.install_skew_s,
                "import_skew_s": result.import_skew_s,
            }

        return JSONResponse(await answer(request, MAX_BUNDLE, work))

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, _Refused)
        return JSONResponse({"error": error.sentence, **error.extra}, status_code=error.status)

    async def failed(request: Request, error: Exception) -> JSONResponse:
        with speaking(language_of(request)):
            sentence = _("The gateway failed ({kind}); nothing was done.").format(
                kind=type(error).__name__
            )
        return JSONResponse({"error": sentence}, status_code=500)

    async def not_found(request: Request, _error: Exception) -> JSONResponse:
        with speaking(language_of(request)):
            return JSONResponse({"error": _("No such gateway path.")}, status_code=404)

    async def not_allowed(request: Request, _error: Exception) -> JSONResponse:
        with speaking(language_of(request)):
            return JSONResponse({"error": _("That method is not allowed here.")}, status_code=405)

    return Starlette(
        routes=[
            Route("/v1/status", status, methods=["GET"]),
            Route("/v1/slips/check", check, methods=["POST"]),
            Route("/v1/slips/redeem", redeem, methods=["POST"]),
            Route("/v1/bundles", bundles, methods=["POST"]),
        ],
        exception_handlers={
            _Refused: refused,
            404: not_found,
            405: not_allowed,
            Exception: failed,
        },
    )


def server(
    database: Database,
    *,
    host: str,
    port: int,
    cert: str | None,
    key: str | None,
    clock: Clock | None = None,
    log_level: str = "info",
) -> Any:
    """A uvicorn server for the gateway, TLS with ``cert``/``key``. Plain HTTP only on a
    loopback address (a rehearsal on one laptop): on the LAN a booth's seal would travel
    readable, and the slips with it."""
    import uvicorn

    if not (cert and key) and not is_loopback(host):
        raise KioskError(
            _(
                "The booth gateway is served over HTTPS on the LAN: give --cert and --key "
                "(plain HTTP only on 127.0.0.1, for a rehearsal)."
            )
        )
    config = uvicorn.Config(
        create_app(database, clock=clock),
        host=host,
        port=port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
    )
    return uvicorn.Server(config)
