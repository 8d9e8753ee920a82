"""The reference ledger as an HTTPS service: what a bank exposes instead of its database URL.

``kiosk ledger serve`` runs this Starlette app behind uvicorn with TLS (and, with
``--client-ca``, client certificates required). API version 1, JSON both ways:

- ``GET /v1/status``: the service, its API version and the event the token stands for;
- ``GET /v1/events/{code}/snapshot?after=&limit=&day=``: one page of the event's accounts
  (what ``kiosk sync pull`` reads directly), customer order, ``next`` to go on from; the first
  page carries the bank's whole points stock on ``day``;
- ``POST /v1/events/{code}/entries``: a batch of outbox entries with their idempotency keys;
  answered entry by entry exactly as ``Ledger.apply`` answers (the same exactly-once rule:
  a key seen before is answered as the first time and changes nothing);
- ``GET /openapi.json``: the description below, kept in docs/ledger-api.json.

Every request carries ``Authorization: Bearer ID.SECRET``, a token made for one event with
``kiosk ledger token`` (stored hashed, ``Ledger.token_event``); a token of another event is
answered 403. Every error is ``{"error": sentence}``. The bank's IT reads exactly what a kiosk
sends in the request bodies: the outbox entries as docs/sync.md describes them.
"""

from __future__ import annotations

import json
import ssl
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sync.ledger import Account, Ledger, LedgerError

API_VERSION = "v1"
MAX_ENTRIES = 20_000  # per request; the kiosk sends 5,000 by default
MAX_PAGE = 5_000

_KEY = {"type": "string", "maxLength": 64}
_ERROR = {
    "description": "an error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string", "description": "one sentence"}},
            }
        }
    },
}
_AUTH_ERRORS = {"401": _ERROR, "403": _ERROR}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "kiosk reference points ledger",
        "version": "1",
        "description": (
            "What a kiosk sends to the bank's points ledger and reads from it (docs/sync.md). "
            "Every request carries a bearer token made for one event (kiosk ledger token). "
            "Pushing is exactly once: every entry has an idempotency key; an entry sent again "
            "is answered as the first time and changes nothing."
        ),
    },
    "components": {
        "securitySchemes": {"eventToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Lot": {
                "type": "object",
                "required": ["ref", "points", "expires_on"],
                "properties": {
                    "ref": {"type": "string"},
                    "points": {"type": "integer"},
                    "expires_on": {"type": ["string", "null"], "format": "date"},
                },
            },
            "Account": {
                "type": "object",
                "required": [
                    "customer_no",
                    "name",
                    "branch",
                    "tier",
                    "balance",
                    "mobile_banking",
                    "kyc",
                    "updated_at",
                    "lots",
                    "aum",
                ],
                "properties": {
                    "customer_no": {"type": "string"},
                    "name": {"type": "string"},
                    "branch": {"type": "string"},
                    "tier": {"type": "string"},
                    "balance": {"type": "integer", "description": "unexpired lots on day"},
                    "mobile_banking": {"type": "string"},
                    "kyc": {"type": "object"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "lots": {"type": "array", "items": {"$ref": "#/components/schemas/Lot"}},
                    "aum": {"type": ["integer", "null"], "description": "yuan"},
                },
            },
            "Entry": {
                "type": "object",
                "required": ["key", "kind", "payload"],
                "properties": {
                    "key": _KEY,
                    "kind": {"type": "string"},
                    "payload": {"type": "object", "description": "docs/sync.md, by kind"},
                },
            },
            "Outcome": {
                "type": "object",
                "required": ["key", "status", "reason"],
                "properties": {
                    "key": _KEY,
                    "status": {"enum": ["accepted", "rejected"]},
                    "reason": {"type": "string"},
                },
            },
        },
    },
    "security": [{"eventToken": []}],
    "paths": {
        "/v1/status": {
            "get": {
                "summary": "The service, its API version and the token's event",
                "responses": {
                    "200": {
                        "description": "the service answers",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "api": {"const": "v1"},
                                        "service": {"type": "string"},
                                        "event": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    **_AUTH_ERRORS,
                },
            }
        },
        "/v1/events/{code}/snapshot": {
            "get": {
                "summary": "One page of the event's accounts, in customer order",
                "parameters": [
                    _CODE,
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                    },
                    {"name": "day", "in": "query", "schema": {"type": "string", "format": "date"}},
                ],
                "responses": {
                    "200": {
                        "description": "a page; next is null on the last one",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["event", "day", "accounts", "next"],
                                    "properties": {
                                        "event": {"type": "string"},
                                        "day": {"type": "string", "format": "date"},
                                        "accounts": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Account"},
                                        },
                                        "next": {"type": ["string", "null"]},
                                        "points_stock": {
                                            "type": "integer",
                                            "description": "first page only: every account's "
                                            "unexpired points on day",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                    **_AUTH_ERRORS,
                },
            }
        },
        "/v1/events/{code}/entries": {
            "post": {
                "summary": "Apply a batch of outbox entries, exactly once, in one transaction",
                "parameters": [_CODE],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["entries"],
                                "properties": {
                                    "entries": {
                                        "type": "array",
                                        "maxItems": MAX_ENTRIES,
                                        "items": {"$ref": "#/components/schemas/Entry"},
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "one outcome per entry, in order",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["outcomes"],
                                    "properties": {
                                        "outcomes": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Outcome"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                    **_AUTH_ERRORS,
                    "413": _ERROR,
                },
            }
        },
    },
}


def openapi_text() -> str:
    """The OpenAPI description as docs/ledger-api.json holds it."""
    return json.dumps(OPENAPI, indent=2, ensure_ascii=False) + "\n"


class _Refused(Exception):
    """A request answered with an error sentence (and its HTTP status)."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence


def _error(status: int, sentence: str) -> JSONResponse:
    return JSONResponse({"error": sentence}, status_code=status)


def _account_json(a: Account) -> dict[str, Any]:
    return {
        "customer_no": a.customer_no,
        "name": a.name,
        "branch": a.branch,
        "tier": a.tier,
        "balance": a.balance,
        "mobile_banking": a.mobile_banking,
        "kyc": a.kyc,
        "updated_at": a.updated_at.isoformat(),
        "lots": [
            {
                "ref": x.ref,
                "points": x.points,
                "expires_on": x.expires_on.isoformat() if x.expires_on else None,
            }
            for x in a.lots
        ],
        "aum": a.aum,
    }


def create_app(ledger: Ledger) -> Starlette:
    """The API over one open ledger (its engine's pool serves the requests' threads)."""

    async def authorised(request: Request, code: str | None = None) -> str:
        header = request.headers.get("authorization", "")
        scheme, _space, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise _Refused(401, "No bearer token: send Authorization: Bearer ID.SECRET.")
        event = await run_in_threadpool(ledger.token_event, presented.strip())
        if event is None:
            raise _Refused(401, "The token is unknown, wrong or revoked.")
        if code is not None and code != event:
            raise _Refused(403, f"This token is for event {event}, not for event {code}.")
        return event

    async def status(request: Request) -> JSONResponse:
        event = await authorised(request)
        return JSONResponse(
            {"api": API_VERSION, "service": "kiosk reference points ledger", "event": event}
        )

    async def snapshot(request: Request) -> JSONResponse:
        code = request.path_params["code"]
        await authorised(request, code)
        query = request.query_params
        after = query.get("after", "")
        try:
            limit = int(query.get("limit", "1000"))
            day = date.fromisoformat(query["day"]) if query.get("day") else None
        except ValueError:
            raise _Refused(
                400, "limit must be a whole number and day a date (YYYY-MM-DD)."
            ) from None
        if not 1 <= limit <= MAX_PAGE:
            raise _Refused(400, f"limit must be between 1 and {MAX_PAGE}.")

        def read() -> dict[str, Any]:
            from sync.ledger import ledger_today

            on = day or ledger_today()
            page = ledger.event_accounts(code, after=after, limit=limit, today=on)
            body: dict[str, Any] = {
                "event": code,
                "day": on.isoformat(),
                "accounts": [_account_json(a) for a in page],
                "next": page[-1].customer_no if len(page) == limit else None,
            }
            if not after:
                body["points_stock"] = ledger.points_stock(on)
            return body

        return JSONResponse(await run_in_threadpool(read))

    async def entries(request: Request) -> JSONResponse:
        code = request.path_params["code"]
        await authorised(request, code)
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "The body is not JSON.") from None
        batch = _entries(body, code)
        try:
            outcomes = await run_in_threadpool(ledger.apply, batch)
        except (KeyError, TypeError, ValueError) as error:  # rolled back: nothing applied
            raise _Refused(
                400, f"An entry's payload lacks a field or holds a wrong value ({error!r})."
            ) from None
        return JSONResponse(
            {"outcomes": [{"key": o.key, "status": o.status, "reason": o.reason} for o in outcomes]}
        )

    async def openapi(_request: Request) -> JSONResponse:
        return JSONResponse(OPENAPI)

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, _Refused)
        return _error(exc.status, exc.sentence)

    async def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return _error(503, str(exc))

    async def failed(_request: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"The ledger failed: {type(exc).__name__}.")

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return _error(404, "No such API path; see /openapi.json.")

    async def not_allowed(_request: Request, _exc: Exception) -> JSONResponse:
        return _error(405, "That method is not allowed here; see /openapi.json.")

    return Starlette(
        routes=[
            Route("/v1/status", status, methods=["GET"]),
            Route("/v1/events/{code}/snapshot", snapshot, methods=["GET"]),
            Route("/v1/events/{code}/entries", entries, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={
            _Refused: refused,
            LedgerError: unavailable,
            404: not_found,
            405: not_allowed,
            Exception: failed,
        },
    )


def _entries(body: Any, code: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The batch of a POST, checked whole before anything is applied."""
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        raise _Refused(400, 'The body must be {"entries": [...]}.')
    items = body["entries"]
    if len(items) > MAX_ENTRIES:
        raise _Refused(413, f"At most {MAX_ENTRIES} entries per request, not {len(items)}.")
    batch = []
    for number, item in enumerate(items, 1):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("key"), str)
            and 0 < len(item["key"]) <= 64
            and isinstance(item.get("kind"), str)
            and isinstance(item.get("payload"), dict)
        ):
            raise _Refused(
                400, f"Entry {number} needs a key (1 to 64 characters), a kind and a payload."
            )
        if item["payload"].get("event", code) != code:
            raise _Refused(
                403, f"Entry {number} is for event {item['payload']['event']}, not for {code}."
            )
        batch.append((item["key"], item["kind"], item["payload"]))
    return batch


def server(
    ledger: Ledger,
    *,
    host: str,
    port: int,
    cert: str | None,
    key: str | None,
    client_ca: str | None = None,
    log_level: str = "info",
) -> Any:
    """A uvicorn server for the app, TLS with ``cert``/``key`` (plain HTTP without: only for a
    local rehearsal, the caller says so); with ``client_ca`` every client must present a
    certificate that CA signed."""
    import uvicorn

    config = uvicorn.Config(
        create_app(ledger),
        host=host,
        port=port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        ssl_ca_certs=client_ca,
        ssl_cert_reqs=ssl.CERT_REQUIRED if client_ca else ssl.CERT_NONE,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
    )
    return uvicorn.Server(config)


if __name__ == "__main__":  # python -m sync.api > docs/ledger-api.json
    print(openapi_text(), end="")
