"""Per-machine preferences kept in QSettings: language, large print, the event database URL
this laptop joins, its counter's name, the booth's settings, the dashboard's alert limits,
the idle lock, the backups, the free-space warning and the customer screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings

from kiosk.errors import KioskError
from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES

if TYPE_CHECKING:
    from kiosk import credentials
    from kiosk.services.dashboard import Thresholds

ORGANIZATION = "kiosk"
APPLICATION = "kiosk"
CUSTOMER_SCREEN_MODES = ("auto", "window", "off")


class Settings:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings or QSettings(ORGANIZATION, APPLICATION)

    def import_mapping(self, kind: str, branch: str) -> dict[str, str]:
        """The columns the coordinator mapped by hand in the last file of this branch
        (header as written -> field, or "-" to leave it out): each branch keeps its own
        spellings from one list to the next."""
        import json

        raw = str(self._s.value(f"imports/{kind}/{branch}", "") or "")
        try:
            found = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def set_import_mapping(self, kind: str, branch: str, mapping: dict[str, str]) -> None:
        import json

        self._s.setValue(f"imports/{kind}/{branch}", json.dumps(mapping, ensure_ascii=False))
        self._s.sync()

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
        """The event database this laptop last connected to ("" = not chosen yet), with its
        password put back from the credential store: the file keeps the URL without it
        (``kiosk.credentials``)."""
        from kiosk import credentials  # SQLAlchemy: not before the first window (issue #23)

        return credentials.recall(str(self._s.value("db/url", "")))

    @database_url.setter
    def database_url(self, value: str) -> None:
        from kiosk import credentials

        self._s.setValue("db/url", credentials.remember(value, allow_clear=self.clear_passwords))
        self._s.sync()

    @property
    def clear_passwords(self) -> bool:
        """The explicit permission to keep the database password in clear in this file when
        this computer has no credential store: ``security/clear_passwords=true`` here, or
        ``KIOSK_CLEAR_PASSWORDS=1``. A working credential store is used even then."""
        from kiosk import credentials

        mine = str(self._s.value("security/clear_passwords", "false")).lower() in ("true", "1")
        return mine or credentials.clear_allowed_by_environment()

    def protect_database_url(self) -> credentials.Protected:
        """Read the database URL at start: a password an older kiosk kept here in clear moves
        into the credential store (or out of the file, see ``kiosk.credentials.protect``);
        ``url`` of the result is the one to connect with now, ``note`` says what changed."""
        from kiosk import credentials

        stored = str(self._s.value("db/url", ""))
        protected = credentials.protect(stored, allow_clear=self.clear_passwords)
        if protected.stored != stored:
            self._s.setValue("db/url", protected.stored)
            self._s.sync()
        return protected

    @property
    def counter_name(self) -> str:
        """The counter this laptop stands at ("3 号柜台"; "" = not named yet): its desks call
        customers to it, the public display says it, and it is what identifies the desk in
        the event database, so a laptop given the same name takes the counter over."""
        return " ".join(str(self._s.value("desk/counter", "")).split())

    @counter_name.setter
    def counter_name(self, value: str) -> None:
        self._s.setValue("desk/counter", " ".join(value.split()))
        self._s.sync()

    # The spoken call on the public display (``kiosk.callvoice``).

    @property
    def call_volume(self) -> int:
        """How loud the display speaks a call, 0 (silent: shown only) to 100."""
        return _whole(self._s.value("call/volume", 80), 80, 0, 100)

    @call_volume.setter
    def call_volume(self, value: int) -> None:
        self._s.setValue("call/volume", min(max(int(value), 0), 100))
        self._s.sync()

    @property
    def voice_folder(self) -> str:
        """The folder of the bank's own recordings of the call's words ("": ``voice`` in the
        app's data folder); a file there replaces the shipped clip of the same name."""
        return str(self._s.value("call/voice_folder", ""))

    @voice_folder.setter
    def voice_folder(self, value: str) -> None:
        self._s.setValue("call/voice_folder", value)
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
    def booth_staff_day(self) -> str:
        """The booth's date (ISO) when the name was typed: a name holds for that day's shift."""
        return str(self._s.value("booth/staff_day", ""))

    @booth_staff_day.setter
    def booth_staff_day(self, value: str) -> None:
        self._s.setValue("booth/staff_day", value)
        self._s.sync()

    @property
    def booth_auto_redeem(self) -> bool:
        return str(self._s.value("booth/auto_redeem", "false")).lower() in ("true", "1")

    @booth_auto_redeem.setter
    def booth_auto_redeem(self, value: bool) -> None:
        self._s.setValue("booth/auto_redeem", "true" if value else "false")
        self._s.sync()

    # The dashboard's alert limits: a preference of the screen that watches the event.

    def dashboard_thresholds(self) -> Thresholds:
        from kiosk.services.dashboard import Thresholds

        default = Thresholds()

        def number(key: str, fallback: int) -> int:
            try:
                return int(str(self._s.value(f"dashboard/{key}", fallback)))
            except ValueError:
                return fallback

        chosen = Thresholds(
            queue_wait_minutes=number("queue_wait_minutes", default.queue_wait_minutes),
            slot_crowding_percent=number("slot_crowding_percent", default.slot_crowding_percent),
            offer_left_percent=number("offer_left_percent", default.offer_left_percent),
        )
        try:
            return chosen.check()
        except KioskError:  # edited by hand into nonsense: the defaults
            return default

    def set_dashboard_thresholds(self, thresholds: Thresholds) -> None:
        thresholds.check()
        for key in ("queue_wait_minutes", "slot_crowding_percent", "offer_left_percent"):
            self._s.setValue(f"dashboard/{key}", getattr(thresholds, key))
        self._s.sync()

    # Idle stations lock after this many seconds without a key press or a click (0 = never):
    # a station left alone at a public venue must not keep customers' data on screen.

    @property
    def idle_lock_seconds(self) -> int:
        return _whole(self._s.value("security/idle_lock_seconds", 300), 300, 0, 24 * 3600)

    @idle_lock_seconds.setter
    def idle_lock_seconds(self, value: int) -> None:
        self._s.setValue("security/idle_lock_seconds", int(value))
        self._s.sync()

    # The screen turned to the customer (``ui.customer_screen``): "auto" puts it full screen
    # on a second monitor when the laptop has one (opened at start, and by its header
    # button); "window" keeps it a window the staff drag where they like (opened by the
    # button); "off" has no customer screen at this laptop. The monitor's number (1 is the
    # first) chooses among several; 0 takes the first that is not the staff's.

    @property
    def customer_screen(self) -> str:
        value = str(self._s.value("ui/customer_screen", "auto"))
        return value if value in CUSTOMER_SCREEN_MODES else "auto"

    @customer_screen.setter
    def customer_screen(self, value: str) -> None:
        if value not in CUSTOMER_SCREEN_MODES:
            raise ValueError(
                f"The customer screen is one of {', '.join(CUSTOMER_SCREEN_MODES)}, not {value!r}."
            )
        self._s.setValue("ui/customer_screen", value)
        self._s.sync()

    @property
    def customer_screen_number(self) -> int:
        return _whole(self._s.value("ui/customer_screen_number", 0), 0, 0, 16)

    @customer_screen_number.setter
    def customer_screen_number(self, value: int) -> None:
        self._s.setValue("ui/customer_screen_number", int(value))
        self._s.sync()

    # Automatic backups of the event database to a second place (a USB stick): the folder,
    # every how many minutes, how many to keep, and when the last one was taken (so a
    # language switch, which rebuilds the window, does not postpone the next one).

    @property
    def backup_folder(self) -> str:
        return str(self._s.value("backup/folder", ""))

    @backup_folder.setter
    def backup_folder(self, value: str) -> None:
        self._s.setValue("backup/folder", value)
        self._s.sync()

    @property
    def backup_minutes(self) -> int:
        return _whole(self._s.value("backup/minutes", 5), 5, 1, 24 * 60)

    @backup_minutes.setter
    def backup_minutes(self, value: int) -> None:
        self._s.setValue("backup/minutes", int(value))
        self._s.sync()

    @property
    def backup_keep(self) -> int:
        return _whole(self._s.value("backup/keep", 24), 24, 1, 10_000)

    @backup_keep.setter
    def backup_keep(self, value: int) -> None:
        self._s.setValue("backup/keep", int(value))
        self._s.sync()

    @property
    def backup_last(self) -> float:
        """When the last automatic backup was taken (seconds since the epoch), 0 if never."""
        try:
            return float(str(self._s.value("backup/last", 0)))
        except ValueError:
            return 0.0

    @backup_last.setter
    def backup_last(self, value: float) -> None:
        self._s.setValue("backup/last", value)
        self._s.sync()

    # Warn when a disk this laptop writes to has less free space than this (MB; 0 = never).

    @property
    def low_space_mb(self) -> int:
        from kiosk.storage import low_space_threshold

        default = low_space_threshold() // (1024 * 1024)  # KIOSK_LOW_SPACE_MB, else 200
        return _whole(self._s.value("disk/low_space_mb", default), default, 0, 1_000_000)

    @low_space_mb.setter
    def low_space_mb(self, value: int) -> None:
        self._s.setValue("disk/low_space_mb", int(value))
        self._s.sync()


def _whole(value: object, default: int, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return min(max(number, low), high)
