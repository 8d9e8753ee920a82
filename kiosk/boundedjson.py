"""JSON from a file someone else made, read within bounds: size, depth, numbers, keys.

A merchant pack, a redemption bundle or an approved-merchant register arrives on a USB stick
or over the booth gateway, from a laptop at a public venue. Python's ``json`` module trusts
its input more than that allows: a nesting bomb (``[[[[…`` a few thousand deep) raises
``RecursionError`` in the parser or later in ``json.dumps``; ``1e400`` becomes ``inf``, and
``int(inf)`` raises ``OverflowError``; a key written twice silently keeps the last one, so
what a signature covered and what is read may differ; a number of 4,000 digits is an int a
database column cannot take. ``loads`` refuses each of them before anything reads the
document, and the field readers (``integer``, ``text``, …) refuse wrong types and numbers
out of range, each with a short phrase naming what is wrong (``Malformed.reason``, already
translated), which the file's own parser puts into its one-sentence refusal.

The depth is checked before the parser runs, by counting brackets outside strings: the
parser reads left to right exactly as the scan does, so it never gets deeper than the scan
saw before it either finishes or fails on the first malformed byte.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from kiosk.i18n import _

# Deep enough for every file the kiosk writes (a register's history is the deepest, at 6),
# far below the interpreter's recursion limit whatever the caller's stack already holds.
MAX_DEPTH = 32
INT32 = 2**31 - 1  # an id, a serial, a sequence: what an INTEGER column holds
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


_When = TypeVar("_When", bound=date)


class Malformed(ValueError):
    """What is wrong with a document, as a short translated phrase (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Malformed(
            _("it holds a number too large to be real ({number})").format(number=text[:20])
        )
    return value


def _constant(text: str) -> Any:
    raise Malformed(_("it holds {constant}, which is not a number").format(constant=text))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise Malformed(_("the key “{key}” is there twice").format(key=key[:40]))
            seen.add(key)
    return found


def deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (brackets inside
    strings ignored). Stops at the first bracket past the limit: a bomb of a million
    brackets costs no more than ``limit`` of them."""
    level = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            level += 1
            if level > limit:
                return True
        else:
            level -= 1
    return False


def loads(data: bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The document in ``data``; raises ``Malformed`` for anything outside the bounds."""
    if len(data) > max_bytes:
        raise Malformed(
            _("it is larger than {kb} KiB, more than such a file can be").format(
                kb=max_bytes // 1024
            )
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(_("it is not UTF-8 text")) from None
    if deeper_than(text, max_depth):
        raise Malformed(_("it is nested deeper than {n} levels").format(n=max_depth))
    try:
        document = json.loads(
            text,
            parse_float=_finite,
            parse_constant=_constant,
            object_pairs_hook=_no_duplicates,
        )
    except Malformed:
        raise
    except (ValueError, RecursionError):  # ValueError: JSONDecodeError, an int too long
        raise Malformed(_("it is not JSON")) from None
    if _SURROGATE.search(text):
        # "\ud800" alone parses to a string that is not text: encoding it to sign or
        # seal it (canonical JSON, UTF-8) would fail far from here.
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Malformed(_("it holds a broken character escape (a lone surrogate)")) from None
    return document


# -- reading fields ---------------------------------------------------------------------------


def member(document: Any, key: str, field: str | None = None) -> Any:
    """``document[key]``: the document must be an object that has it."""
    if not isinstance(document, Mapping) or key not in document:
        raise Malformed(_("its {field} is missing").format(field=field or key))
    return document[key]


def obj(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Malformed(_("its {field} is missing or malformed").format(field=field))
    return value


def array(value: Any, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(_("its {field} is missing or malformed").format(field=field))
    if len(value) > limit:
        raise Malformed(_("its {field} has more than {n} items").format(field=field, n=limit))
    return value


def integer(value: Any, field: str, low: int = 0, high: int = INT32) -> int:
    """A whole number from ``low`` to ``high``: never a float, a string or a bool."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(_("its {field} is missing or malformed").format(field=field))
    if not low <= value <= high:
        raise Malformed(
            _("its {field} ({value}) is out of range").format(field=field, value=str(value)[:20])
        )
    return value


def text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise Malformed(_("its {field} is missing or malformed").format(field=field))
    if len(value) > limit:
        raise Malformed(_("its {field} is longer than {n} characters").format(field=field, n=limit))
    return value


def plausible(when: _When, field: str) -> _When:
    """A date or time of the kiosk's era: year 1 with an offset overflows when it is turned
    into UTC or subtracted (OverflowError), which no file the kiosk wrote holds."""
    if not 2000 <= when.year <= 2999:
        raise Malformed(
            _("its {field} ({value}) is out of range").format(field=field, value=when.isoformat())
        )
    return when


@contextlib.contextmanager
def naming(name: str, *kinds: type[Exception]) -> Iterator[None]:
    """Name the file in a refusal raised inside: ``pack.json: This file is not …``.

    The parsers read bytes (a USB file, a gateway request's body) and cannot know a name;
    whoever read the file wraps the call, so the operator learns which of the files on the
    stick is wrong. Only the file's own refusals (``kinds``) are named: a lost database
    connection during the import is not the file's fault."""
    try:
        yield
    except kinds as error:
        sentence = str(error)
        if name and not sentence.startswith(name):
            error.args = (_("{file}: {sentence}").format(file=name, sentence=sentence),)
        raise


def read_head(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path``: a parser given more than ``limit`` refuses
    the file by its size, and a file of gigabytes is never held in memory whole. Raises
    ``OSError`` as ``Path.read_bytes`` does."""
    with path.open("rb") as file:
        return file.read(limit + 1)
