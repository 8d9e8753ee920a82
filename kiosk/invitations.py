"""Invitation codes: short, scanner-friendly, and telling which event they belong to.

A code is 8 characters of Crockford base32 (digits and upper-case letters without I, L, O, U,
so nothing is misread): a 2-character tag derived from the event code, then 6 random ones.
Reception can then say "this invitation is for another event" instead of "unknown code".
"""

from __future__ import annotations

import random
import zlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8


def event_tag(event_code: str) -> str:
    value = zlib.crc32(event_code.encode()) % (32 * 32)
    return CROCKFORD[value // 32] + CROCKFORD[value % 32]


def new_code(event_code: str, rng: random.Random, used: set[str]) -> str:
    tag = event_tag(event_code)
    while True:
        code = tag + "".join(rng.choices(CROCKFORD, k=CODE_LENGTH - 2))
        # A code always has a letter, so it is never confused with a customer number.
        if code not in used and not code.isdigit():
            used.add(code)
            return code


def looks_like_code(text: str) -> bool:
    text = text.upper()
    return len(text) == CODE_LENGTH and not text.isdigit() and all(c in CROCKFORD for c in text)


def belongs_to(code: str, event_code: str) -> bool:
    return code.upper().startswith(event_tag(event_code))


# An RM's personal invitation code (个人邀请码, issue #20): "R" and 5 characters, so nobody
# mistakes it for a customer's 8-character invitation code or a staff number.
RM_CODE_PREFIX = "R"
RM_CODE_LENGTH = 6


def new_rm_code(rng: random.Random, used: set[str]) -> str:
    while True:
        code = RM_CODE_PREFIX + "".join(rng.choices(CROCKFORD, k=RM_CODE_LENGTH - 1))
        if code not in used:
            used.add(code)
            return code


def rm_link(catalog_url: str, code: str) -> str:
    """The e-catalog's address carrying the RM's code (``?rm=CODE``, added to a query the
    address already has, before its #anchor); the code alone without an address."""
    if not catalog_url:
        return code
    parts = urlsplit(catalog_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "rm"]
    query.append(("rm", code))
    return urlunsplit(parts._replace(query=urlencode(query)))
