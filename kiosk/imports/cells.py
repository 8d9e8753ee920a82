"""Turning one cell into one value, or one sentence saying what is wrong with it.

Excel hands over numbers where people typed digits, dates as serial numbers, and long digit
strings rounded to 15 significant digits; each parser here accepts what Excel and people
really produce and refuses the rest with a sentence the coordinator can act on.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kiosk.gb18030 import NOT_PLAIN
from kiosk.i18n import _
from kiosk.idcard import birth_date, is_valid_mobile, is_valid_resident_id

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug)
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_TEXT = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
LONG_TERM = {"长期", "long-term", "longterm", "long term", "permanent", "9999-12-31"}


class CellProblem(ValueError):
    """The cell cannot be used; the message is one translated sentence."""


# Characters nobody sees: zero-width spaces and joiners, the word joiner, the BOM, the soft
# hyphen, bidirectional marks. Pasted from a chat or a web page with a name or a number, they
# make "13812345678" fail as a phone while the cell looks right.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0xFEFF]
)
INVISIBLE = "invisible"  # what ``clean`` changed, for the summary
WIDTH = "width"
DIGITS = "digits"


def clean(value: str, *, fold: bool = True) -> tuple[str, tuple[str, ...]]:
    """A text cell as it is meant: NFKC (full-width letters and digits made half-width), no
    invisible or control characters (a line break or tab becomes a space), every decimal
    digit of any script (Arabic-Indic ٣, Devanagari ३ …) made ASCII. Returns what changed.

    ``fold=False`` is for prose (names, addresses, descriptions): only the invisible and
    control characters go, and the text keeps its shape. NFKC would turn a name's "（北京）"
    into "(北京)" and "９:００" in opening hours into "9:00", which is not how it was written
    and prints differently; codes, numbers, IDs and phones are folded, as they must compare."""
    if value.isascii() and value.isprintable():
        return value, ()
    if NOT_PLAIN.search(value) is None:
        return value, ()  # printable ASCII and common ideographs: nothing to clean or fold
    changed: list[str] = []
    stripped = value.translate(_INVISIBLE)
    controls = "".join(
        " " if c in "\t\r\n\x0b\x0c" else ("" if unicodedata.category(c) == "Cc" else c)
        for c in stripped
    )
    if controls != value:
        changed.append(INVISIBLE)
    if not fold:
        return controls, tuple(changed)
    folded = unicodedata.normalize("NFKC", controls)
    if folded != controls:
        changed.append(WIDTH)
    digits = "".join(
        str(unicodedata.decimal(c))
        if not c.isascii() and unicodedata.decimal(c, None) is not None
        else c
        for c in folded
    )
    if digits != folded:
        changed.append(DIGITS)
    return digits, tuple(changed)


def prose(value: object) -> str:
    """A cell of free text as written (full-width punctuation kept); other cells as ``text``."""
    if isinstance(value, str):
        return value.strip()
    return text(value)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str:
    """A cell as text: integral numbers without ".0", full-width characters made half-width."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def digits_lost(value: object) -> bool:
    """Whether Excel has stored a long digit string as a number and rounded it.

    Excel keeps 15 significant digits: an 18-digit ID typed into a General cell comes back as
    4.40106198001011E+17 or, once saved as CSV, as 440106198001011000.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return abs(value) >= 1e15
    if isinstance(value, int):
        return value >= 10**15
    raw = text(value)
    if _SCIENTIFIC.fullmatch(raw):
        return True
    return (
        len(raw) == 18 and raw.isdigit() and raw.endswith("000") and not is_valid_resident_id(raw)
    )


def id_number(value: object, id_type: str, today: date | None = None) -> str:
    if digits_lost(value):
        raise CellProblem(
            _(
                "Excel stored this ID number as a number and lost its last digits; format the "
                "column as Text and type the number again."
            )
        )
    number = text(value).replace(" ", "").upper()
    if id_type == "resident_id":
        if len(number) != 18:
            raise CellProblem(
                _("A resident ID number has 18 characters; this one has {n}.").format(n=len(number))
            )
        if not is_valid_resident_id(number):
            raise CellProblem(
                _("The resident ID number fails its check digit (GB 11643); check for a typo.")
            )
        born = birth_date(number)
        if born > (today or date.today()):
            raise CellProblem(
                _(
                    "The birth date in this ID number, {date}, is in the future; check the "
                    "digits 7 to 14."
                ).format(date=born.isoformat())
            )
    elif not re.fullmatch(r"[A-Z0-9()（）-]{5,32}", number):
        raise CellProblem(_("The ID number may hold only letters and digits (5 to 32)."))
    return number


def mobile(value: object) -> str:
    phone = text(value).replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not is_valid_mobile(phone):
        raise CellProblem(
            _("“{phone}” is not a mainland mobile number (11 digits starting with 1).").format(
                phone=phone
            )
        )
    return phone


def _serial(number: float) -> date:
    if not 1 <= number < 2958466:  # up to 9999-12-31
        raise CellProblem(_("{value} is not a date.").format(value=number))
    return EXCEL_EPOCH + timedelta(days=int(number))


def day(value: object) -> date:
    """A date from a date cell, an Excel serial number or text like 2026-11-28 / 2026/11/28 /
    2026年11月28日 / 20261128."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 99991231 and float(value).is_integer():
            return day(str(int(value)))
        return _serial(value)
    raw = text(value).split(" ")[0].split("T")[0]
    match = _DATE_TEXT.fullmatch(raw) or _COMPACT_DATE.fullmatch(raw)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        if raw.isdigit():
            return _serial(int(raw))
    except ValueError:
        pass
    raise CellProblem(
        _("“{value}” is not a date; write it like 2026-11-28.").format(value=text(value))
    )


def moment(value: object, zone: ZoneInfo) -> datetime:
    """A point in time; a date alone means the start of that day at the venue."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=zone)
        return local.astimezone(UTC)
    if isinstance(value, float) and not value.is_integer():
        whole = _serial(value)
        fraction = timedelta(days=value - int(value))
        local = datetime.combine(whole, time(), tzinfo=zone) + fraction
        return local.replace(microsecond=0).astimezone(UTC)
    raw = text(value)
    parts = raw.replace("T", " ").split()
    the_day = day(parts[0] if parts else value)
    at = time()
    if len(parts) > 1:
        match = _TIME_TEXT.fullmatch(parts[1])
        if not match:
            raise CellProblem(
                _("“{value}” is not a time; write it like 2026-11-27 20:00.").format(value=raw)
            )
        at = time(int(match[1]) % 24, int(match[2]), int(match[3] or 0))
    return datetime.combine(the_day, at, tzinfo=zone).astimezone(UTC)


def whole_number(value: object) -> int:
    if isinstance(value, bool):
        raise CellProblem(_("“{value}” is not a whole number.").format(value=value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellProblem(_("“{value}” is not a whole number.").format(value=value))
    raw = text(value).replace(",", "").replace("，", "").replace(" ", "")
    try:
        return int(raw)
    except ValueError:
        try:
            number = float(raw)
        except ValueError:
            number = 0.5
        if number.is_integer():
            return int(number)
    raise CellProblem(_("“{value}” is not a whole number.").format(value=text(value)))


_YUAN = re.compile(r"^(-?\d+(?:\.\d+)?)(万|亿)?元?$")
_YUAN_UNITS = {None: 1, "万": 10_000, "亿": 100_000_000}


def yuan(value: object) -> int:
    """A whole amount of yuan as a bank's file writes assets: 3000000, "3,000,000", "300万",
    "1.5 万元". The unit is read, never guessed: 50 is fifty yuan, not 50万."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return whole_number(value)
    raw = text(value).replace(",", "").replace(" ", "")
    match = _YUAN.fullmatch(raw)
    if match is None:
        raise CellProblem(
            _("“{value}” is not an amount in yuan; write it like 500000 or 50万.").format(
                value=text(value)
            )
        )
    amount = Decimal(match[1]) * _YUAN_UNITS[match[2]]
    if amount != amount.to_integral_value():
        raise CellProblem(_("“{value}” is not a whole number of yuan.").format(value=text(value)))
    return int(amount)
