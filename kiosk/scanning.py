"""Reading the scan field: a scanner or a person, what the input is, and what Enter may do.

A USB scanner "types" its code as keystrokes a few milliseconds apart and ends with Enter; a
person needs 80 ms or more per key. Reception treats a fast burst as a scan (check in at once)
and slow typing as a search (Enter checks in the selected result). Only the last keys count,
so a person who typed a little before scanning does not spoil the scan: the burst alone is
the code.

Everything a QR code can hold reaches the field, not only invitations: a WeChat or payment
link, a redemption slip brought to the wrong desk, a code typed on the wrong keyboard layout.
``odd_input`` names what such an input is, so the station says what fits instead of a
guess. ``on_enter`` is the rule that a check-in acts only on what is visibly selected for the
text in the field now (never on an old list, an empty field or a card left from before).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

from kiosk.i18n import _
from kiosk.invitations import looks_like_code
from kiosk.search_keys import AZERTY_DIGITS, is_han, normalize
from kiosk.slipcode import ALPHABET as SLIP_ALPHABET
from kiosk.slipcode import PREFIX as SLIP_PREFIX

SCANNER_MAX_INTERVAL_S = 0.035
MIN_SCAN_LENGTH = 4


@dataclass
class WedgeDetector:
    max_interval_s: float = SCANNER_MAX_INTERVAL_S
    min_length: int = MIN_SCAN_LENGTH
    _times: list[float] = field(default_factory=list)
    _chars: list[str] = field(default_factory=list)
    burst: str = ""  # after ``finish()`` found a scan: the characters of the burst alone

    def key(self, at: float, text: str = "") -> None:
        """Record a printable keystroke (its ``text``) at time ``at`` (seconds; the key
        event's own time where the platform gives one, so a busy moment of the app does not
        stretch a burst)."""
        if self._times and not 0 <= at - self._times[-1] <= 0.5:
            self.reset()  # a pause: what came before was typed, not scanned
        self._times.append(at)
        self._chars.append(text)

    def finish(self) -> bool:
        """Enter was pressed: did the input end with a scan? Resets for the next input.

        The scan is the trailing run of keys close together (each gap at most three times
        the scanner's interval, its median within it). ``burst`` is its code alone when
        nothing was keyed in the half second before it (a name typed earlier, or committed
        by the input method, is not part of the scan); when keys came just before, they may
        be the scan's own first keys held up, so ``burst`` stays empty: take the whole text.
        """
        times, chars = list(self._times), list(self._chars)
        self.reset()
        start = len(times) - 1
        while start > 0 and times[start] - times[start - 1] <= 3 * self.max_interval_s:
            start -= 1
        if len(times) - start < self.min_length:
            return False
        if median(b - a for a, b in pairwise(times[start:])) > self.max_interval_s:
            return False
        self.burst = "".join(chars[start:]) if start == 0 else ""
        return True

    def reset(self) -> None:
        self._times.clear()
        self._chars.clear()
        self.burst = ""


# -- what an input is ----------------------------------------------------------------------


class Odd(enum.StrEnum):
    """An input that is no name, number or invitation code of any kind."""

    WEB_LINK = "web_link"  # a WeChat, payment or web page QR code
    SLIP = "slip"  # a redemption slip: for the merchant booths, not reception
    WRONG_LAYOUT = "wrong_layout"  # a scanner typing on a keyboard layout it does not expect
    NOT_A_CODE = "not_a_code"  # anything else that no search can match


_LINK = re.compile(r"^([a-z][a-z0-9+.-]*://|www\.|[a-z0-9-]+(\.[a-z0-9-]+)+/)", re.IGNORECASE)
# What a US-layout scanner types for digits with Shift held or Caps Lock on a French
# layout: symbols only where digits belong.
_SHIFTED_DIGITS = set("!@#$%^&*()") | set("&é\"'(-è_çà")


def odd_input(text: str) -> Odd | None:
    """What ``text`` is when it cannot be a name, phone tail, customer number or invitation
    code (of this event or another); None when it may be one of those."""
    query = normalize(text)
    if not query:
        return None
    if _LINK.match(unicodedata.normalize("NFKC", text).strip()):  # dots kept, unlike ``query``
        return Odd.WEB_LINK
    upper = query.upper()
    if (
        upper.startswith(SLIP_PREFIX)
        and len(upper) >= 20
        and all(c in SLIP_ALPHABET for c in upper[len(SLIP_PREFIX) :])
    ):
        return Odd.SLIP
    if any(is_han(c) for c in query):
        return None  # a name
    if query.isascii() and query.isalnum():
        return None
    remapped = query.translate(AZERTY_DIGITS)
    if remapped.isascii() and remapped.isalnum():
        return None  # a French keyboard's digits: the search maps them back
    symbols = [c for c in query if not (c.isascii() and c.isalnum())]
    if all(c in _SHIFTED_DIGITS for c in symbols) and len(symbols) * 2 >= len(query):
        return Odd.WRONG_LAYOUT
    return Odd.NOT_A_CODE


def odd_input_message(kind: Odd, text: str) -> str:
    """The sentence staff read for an odd input: what it is and what to do instead."""
    shown = text.strip()
    if len(shown) > 40:
        shown = shown[:37] + "…"
    if kind == Odd.WEB_LINK:
        return _(
            "This is a web link (e.g. a WeChat or payment code), not an invitation. Scan the "
            "code on the invitation, or type the customer's name."
        )
    if kind == Odd.SLIP:
        return _("This is a redemption slip: please go to the merchant's booth.")
    if kind == Odd.WRONG_LAYOUT:
        return _(
            "“{text}” looks like a scan typed on the wrong keyboard layout: switch the "
            "keyboard to English (US) and scan again."
        ).format(text=shown)
    return _("“{text}” is not a name, phone number, customer number or invitation code.").format(
        text=shown
    )


# -- what Enter may do ---------------------------------------------------------------------


def query_key(text: str) -> str:
    """What a search of ``text`` depends on: two texts with one key give the same results."""
    return normalize(text).casefold()


@dataclass(frozen=True)
class Shown:
    """The result list on screen: the text it was searched for, and the customer of the
    visibly selected row (None when the list is empty or nothing is selected)."""

    query: str  # ``query_key`` of the text searched
    selected: int | None


class Enter(enum.StrEnum):
    NOTHING = "nothing"  # an empty field: Enter does nothing at all
    CHECK_IN = "check_in"  # the visibly selected customer of the list for this very text
    NOBODY = "nobody"  # the list for this text is empty: say so, check in nobody
    RESOLVE = "resolve"  # a whole invitation code typed (a slow scanner): check in its owner
    SEARCH = "search"  # the list is for another text (or none yet): search and show first


def on_enter(text: str, shown: Shown | None) -> tuple[Enter, int | None]:
    """What Enter in the scan field does with ``text`` in it and ``shown`` on screen.

    A check-in acts only on what staff can see selected for the text now: after Esc, a
    new keystroke, an old search arriving late or a search that failed, the list on screen
    is not for this text, so Enter searches and shows instead (a second Enter checks in).
    A whole invitation code identifies one person, as a scan does.
    """
    key = query_key(text)
    if not key:
        return Enter.NOTHING, None
    if shown is not None and shown.query == key:
        if shown.selected is None:
            return Enter.NOBODY, None
        return Enter.CHECK_IN, shown.selected
    if looks_like_code(key.upper()):
        return Enter.RESOLVE, None
    return Enter.SEARCH, None
