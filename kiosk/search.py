"""Finding a customer at reception from whatever the staff member types or scans.

Every customer has search keys (``SearchKey``): the name, the given name, each pinyin initials
reading, the phone's last four digits, the customer number and the invitation codes. A query
is classified by what it looks like and becomes one or more key prefixes; a B-tree range scan
per prefix returns the first matches in key order. Exact matches (a whole invitation code,
customer number or phone tail) come first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import SearchKey
from kiosk.scanning import Odd, odd_input, odd_input_message
from kiosk.search_keys import (
    AZERTY_DIGITS,
    CODE,
    CUSTOMER_NO,
    INITIALS,
    NAME,
    PHONE,
    customer_keys,
    is_han,
    normalize,
)

__all__ = ["SearchError", "customer_keys", "find_customer_ids", "index_customer", "parse_query"]


class SearchError(KioskError):
    """The query cannot be understood; the message says what to type instead."""


@dataclass(frozen=True)
class Lookup:
    key: str
    exact: bool


def parse_query(text: str) -> list[Lookup]:
    """The key lookups for what was typed, most specific first; raises ``SearchError``."""
    query = normalize(text)
    if not query:
        raise SearchError(
            _(
                "Type a name, pinyin initials, the last 4 digits of the phone, "
                "a customer number or an invitation code."
            )
        )
    odd = odd_input(text)
    if odd is not None:  # a web link, a slip, a wrong keyboard layout: say which
        raise SearchError(odd_input_message(odd, text))
    if any(is_han(c) for c in query):
        return [Lookup(NAME + query, exact=False)]
    if query.isdigit():
        lookups = [Lookup(CUSTOMER_NO + query, exact=False)]
        if len(query) == 4:
            lookups.insert(0, Lookup(PHONE + query, exact=True))
        return lookups
    if query.isascii() and query.isalnum():
        lookups = [Lookup(CODE + query.upper(), exact=False)] if len(query) >= 4 else []
        if query.isalpha():
            lookups.append(Lookup(INITIALS + query.lower(), exact=False))
        else:
            lookups.append(Lookup(CUSTOMER_NO + query.upper(), exact=False))
        return lookups
    remapped = query.translate(AZERTY_DIGITS)
    if remapped != query and remapped.isascii() and remapped.isalnum():
        return parse_query(remapped)
    raise SearchError(odd_input_message(Odd.NOT_A_CODE, text))  # mixed text odd_input let by


def _upper_bound(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def find_customer_ids(session: Session, text: str, limit: int = 20) -> list[int]:
    """Customer ids matching ``text``: exact matches first, then prefixes in key order."""
    found: dict[int, None] = {}
    for lookup in parse_query(text):
        if len(found) >= limit:
            break
        if lookup.exact:
            where = SearchKey.key == lookup.key
        else:
            where = (SearchKey.key >= lookup.key) & (SearchKey.key < _upper_bound(lookup.key))
        # Index order (the unique key, customer_id), so LIMIT stops after 20 rows instead of
        # sorting every match of a one-letter prefix.
        statement = (
            select(SearchKey.customer_id)
            .where(where)
            .order_by(SearchKey.key, SearchKey.customer_id)
            .limit(limit)
        )
        for customer_id in session.scalars(statement):
            found.setdefault(customer_id, None)
    return list(found)[:limit]


def index_customer(session: Session, customer_id: int, keys: set[str]) -> None:
    """Replace one customer's keys (after a walk-in registration or a governance change)."""
    existing = set(
        session.scalars(select(SearchKey.key).where(SearchKey.customer_id == customer_id))
    )
    for key in existing - keys:
        session.query(SearchKey).filter_by(customer_id=customer_id, key=key).delete()
    session.add_all(SearchKey(key=key, customer_id=customer_id) for key in keys - existing)
