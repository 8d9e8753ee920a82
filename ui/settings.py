"""Per-machine preferences kept in QSettings: language, large print, the event database URL
this laptop joins, and the booth's settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES

ORGANIZATION = "kiosk"
APPLICATION = "kiosk"


class Settings:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings or QSettings(ORGANIZATION, APPLICATION)

    @property
    def language(self) -> str:
        value = str(self._s.value("ui/language", DEFAULT_LANGUAGE))
        return value if value in LANGUAGES else DEFAULT_LANGUAGE

    @language.setter
    def language(self, value: str) -> None:
        self._s.setValue("ui/language", value)
        self._s.sync()

    @property
    def large_print(self) -> bool:
        return str(self._s.value("ui/large_print", "false")).lower() in ("true", "1")

    @large_print.setter
    def large_print(self, value: bool) -> None:
        self._s.setValue("ui/large_print", "true" if value else "false")
        self._s.sync()

    @property
    def database_url(self) -> str:
        """The event database this laptop last connected to ("" = not chosen yet)."""
        return str(self._s.value("db/url", ""))

    @database_url.setter
    def database_url(self, value: str) -> None:
        self._s.setValue("db/url", value)
        self._s.sync()

    # The merchant booth: who is on duty, and whether a valid slip is redeemed without a
    # confirmation (busy booths with a single service).

    @property
    def booth_staff(self) -> str:
        return str(self._s.value("booth/staff", ""))

    @booth_staff.setter
    def booth_staff(self, value: str) -> None:
        self._s.setValue("booth/staff", value)
        self._s.sync()

    @property
    def booth_auto_redeem(self) -> bool:
        return str(self._s.value("booth/auto_redeem", "false")).lower() in ("true", "1")

    @booth_auto_redeem.setter
    def booth_auto_redeem(self, value: bool) -> None:
        self._s.setValue("booth/auto_redeem", "true" if value else "false")
        self._s.sync()
