"""Masking of personal data: the one place that decides what a screen, a slip or a file shows.

Follows the JR/T 0171-2020 practice for displayed personal financial information: a phone as
138****1234, an ID number with at most its first 6 and last 4 characters (the hidden middle
of a resident ID is the birth date, which never goes on paper), a name with its first
character only where a stranger reads it (slips, tickets, merchant booths), an address down to
the district. Every service returns these forms; the full values are sealed in the event
database (``kiosk.privacy``) and only a supervisor with the event passphrase opens them.
"""

from __future__ import annotations

import re

# What a mask of a valid mainland mobile looks like: the network prefix and last four stay.
_MASKED_MOBILE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")


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


def mask_address(address: str | None) -> str:
    """The first six characters (广州市天河区 ...) and a mark that the rest is hidden."""
    if not address:
        return ""
    keep = 6 if len(address) > 8 else max(len(address) // 3, 1)
    return address[:keep] + "****"


def masked_is_mobile(masked: str | None) -> bool:
    """Whether a masked phone was masked from a valid mainland mobile (prefix, length)."""
    return bool(masked and _MASKED_MOBILE.fullmatch(masked))
