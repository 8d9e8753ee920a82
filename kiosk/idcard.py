"""Mainland resident ID numbers (GB 11643-1999) and mobile numbers: checks, no masking.

The check digit is ISO 7064 MOD 11-2; "X" stands for 10. Masking is ``kiosk.masking``.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def check_digit(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError(f"{first17!r} is not the first 17 characters of an ID number")
    # map, not a generator: an import checks hundreds of thousands of IDs
    total = sum(map(mul, map(int, first17), _WEIGHTS))
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
