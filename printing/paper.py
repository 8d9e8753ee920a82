"""The paper a slip is laid out for; its own module so choosing it imports no PDF machinery."""

from __future__ import annotations

from enum import StrEnum


class Paper(StrEnum):
    """``KIOSK_SLIP_PAPER`` values: the thermal roll at the desk, or A6 for an office printer."""

    ROLL_80MM = "80mm"
    A6 = "a6"


class StatementPaper(StrEnum):
    """The personal points statement: the desk's thermal roll, or an office printer's A4/A5."""

    ROLL_80MM = "80mm"
    A4 = "a4"
    A5 = "a5"
