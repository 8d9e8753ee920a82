"""PIN hashing: slow and salted, so a copied database does not give away PINs.

scrypt from the standard library; the parameters are stored with each hash so they can be
raised later without invalidating existing PINs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from kiosk.errors import KioskError
from kiosk.i18n import _

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
PIN_PATTERN = re.compile(r"^\d{4,8}$")


def check_pin_format(pin: str) -> None:
    if not PIN_PATTERN.fullmatch(pin):
        raise KioskError(_("A PIN is 4 to 8 digits."))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    check_pin_format(pin)
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))
