"""Search keys of a customer: pure functions of the customer's fields.

Kept apart from ``kiosk.search`` (which queries the database) so that migrations can use them
to backfill keys without importing model code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from kiosk.pinyin import COMPOUND_SURNAMES, is_han, name_initials

NAME, INITIALS, PHONE, CUSTOMER_NO, CODE = "n:", "i:", "p:", "c:", "v:"
# Middle dots in 少数民族 names come in several code points; spaces are typed at random.
IGNORED = re.compile(r"[\s·•‧・．.\u00b7\u2022\u2027\u30fb]")
# What a US-layout scanner types for the digits 1234567890 on a French AZERTY keyboard.
AZERTY_DIGITS = str.maketrans("&é\"'(-è_çà", "1234567890")


def normalize(text: str) -> str:
    """Full-width to half-width, no spaces or middle dots."""
    return IGNORED.sub("", unicodedata.normalize("NFKC", text))


def given_name(name: str) -> str:
    name = normalize(name)
    return name[2:] if name[:2] in COMPOUND_SURNAMES else name[1:]


def customer_keys(
    name: str, phone: str | None, customer_no: str, codes: Iterable[str] = ()
) -> set[str]:
    """Every search key of one customer."""
    clean = normalize(name)
    keys = {NAME + clean, CUSTOMER_NO + customer_no.upper()}
    if given_name(clean) and any(is_han(c) for c in clean):
        keys.add(NAME + given_name(clean))
    # 阿依古丽·买买提 is also found by 买买提.
    keys.update(
        NAME + part
        for part in re.split(r"[·•‧・．.\u00b7\u2022\u2027\u30fb]", name)[1:]
        if part.strip()
    )
    keys.update(INITIALS + key for key in name_initials(name) if key)
    if phone and len(phone) >= 4 and phone[-4:].isdigit():
        keys.add(PHONE + phone[-4:])
    keys.update(CODE + code.upper() for code in codes)
    return {key[:80] for key in keys}
