"""Translations shared by the domain, the CLI and the UI.

Message ids are English sentences (gettext style); catalogs in ``assets/translations`` map them
to other languages. Simplified Chinese is the default because the staff and customers read it
first. The catalog is plain JSON so that adding a language needs no compile step and the domain
stays free of Qt's translation machinery.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

# Not ``typing``'s: ``kiosk --help`` imports this module and typing costs it 5 ms (issue #23).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES: dict[str, str] = {"zh_CN": "简体中文", "en": "English"}

_language = DEFAULT_LANGUAGE
# One request's language, for a service answering many clients at once (the booth gateway):
# the laptop's language stays what it is, each request's words are in its caller's.
_speaking: ContextVar[str | None] = ContextVar("kiosk_speaking", default=None)


@cache
def _catalog(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    path = _translations().joinpath(f"{language}.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _translations() -> Path | Traversable:
    """The catalogs' folder. Installed as files (the usual case) it is found where the import
    system finds the ``assets`` package, without importing ``importlib.resources`` and the
    archive readers it brings, tens of milliseconds of ``kiosk --help``'s start-up (issue #23).
    From an archive it is read through ``importlib.resources``."""
    spec = importlib.util.find_spec("assets")
    if spec is not None and spec.origin:
        folder = Path(spec.origin).parent / "translations"
        if folder.is_dir():
            return folder
    from importlib import resources

    return resources.files("assets").joinpath("translations")


def set_language(language: str) -> None:
    """Switch every later ``_()`` call; unknown languages fall back to the default."""
    global _language
    _language = language if language in LANGUAGES else DEFAULT_LANGUAGE


def get_language() -> str:
    return _speaking.get() or _language


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Every ``_()`` of this thread or task in ``language`` while the block runs (unknown
    languages fall back to the default); the laptop's own language is left alone."""
    token = _speaking.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _speaking.reset(token)


def _(message: str) -> str:
    """Translate ``message`` into the current language (English ids pass through)."""
    return _catalog(get_language()).get(message, message)


def n_(n: int, one: str, many: str) -> str:
    """``_(one)`` when ``n`` is 1, else ``_(many)``: English says "1 slip", "2 slips"; Chinese
    has one form, so both ids translate the same. Both are message ids for the catalog check."""
    return _(one if n == 1 else many)


def sentences(*parts: str) -> str:
    """Sentences one after another: a space between them in English, none in Chinese (whose
    full stop already ends the sentence). Empty parts are left out."""
    separator = "" if get_language().startswith("zh") else " "
    return separator.join(part for part in parts if part)


def listing(parts: Iterable[str]) -> str:
    """Items one after another with a semicolon: the full-width "；" in Chinese, "; " in
    English. Empty parts are left out."""
    separator = "；" if get_language().startswith("zh") else "; "
    return separator.join(part for part in parts if part)


def catalog(language: str) -> dict[str, str]:
    """The raw catalog, for the completeness test."""
    return dict(_catalog(language))
