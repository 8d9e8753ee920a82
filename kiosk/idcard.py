"""Mainland resident ID numbers (GB 11643-1999) and masking of personal data.

The check digit is ISO 7064 MOD 11-2; "X" stands for 10. Masking follows the JR/T 0171
practice: at most the first 6 and last 4 characters of an ID, phones as 138****1234.
"""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_resident_id(number: str) -> bool:
    number = number.strip().upper()
    if not _ID_PATTERN.fullmatch(number):
        return False
    try:
        birth_date(number)
    except ValueError:
        return False
    return check_digit(number[:17]) == number[17]


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender(number: str) -> str:
    """ "M" or "F": the 17th digit is odd for men."""
    return "M" if int(number[16]) % 2 else "F"


def is_valid_mobile(phone: str) -> bool:
    return bool(MOBILE_PATTERN.fullmatch(phone.strip()))


def mask_id(number: str | None) -> str:
    if not number:
        return ""
    if len(number) <= 10:
        return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """First character kept: 张** for 张三丰, enough for a merchant to greet, not to identify."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
