"""Errors the operator can act on.

Every error raised on purpose by the domain is a ``KioskError`` whose message is one plain,
already-translated sentence: the CLI prints it as is and the UI shows it in a dialog, so no
caller ever needs to show a traceback to a member of staff.
"""


class KioskError(Exception):
    """A failure with a message fit for the person at the screen."""


class DatabaseError(KioskError):
    """The event database cannot be opened or used."""


class SchemaTooNewError(DatabaseError):
    """The database was migrated by a newer kiosk than this one."""


class NoEventError(KioskError):
    """The database holds no event yet."""


class SignInError(KioskError):
    """Sign-in refused: unknown staff number, wrong PIN or locked."""


class PermissionDenied(KioskError):
    """The signed-in role may not do this."""


class DatabaseUnavailable(DatabaseError):
    """The event database stopped answering mid-action (server down, LAN cut): retry later."""


class OutcomeUnknown(DatabaseUnavailable):
    """The COMMIT was cut off and the database could not be asked whether it landed.

    Only raised for an action with a request id (``kiosk.idempotency``): doing it again with
    the same id is safe, it returns the first result if there was one.
    """

    def __init__(self, message: str, *, request_id: str = "") -> None:
        super().__init__(message)
        self.request_id = request_id


class DatabaseBusy(DatabaseError):
    """PostgreSQL gave up on this transaction to resolve a conflict with another station."""


class SignInThrottled(SignInError):
    """A wrong PIN was typed moments ago: the next try must wait ``wait_s`` seconds."""

    def __init__(self, message: str, *, wait_s: int) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class ApprovalNeeded(PermissionDenied):
    """The action needs a supervisor's approval on the spot, and none was given."""


class ValueTooLong(KioskError):
    """A value longer than its column reached the database (a writer left unbounded): said in
    words, never as the driver's "value too long for type character varying"."""


class DatabaseAccountTooWeak(KioskError):
    """The database account this laptop connects with may not do this (PostgreSQL's
    insufficient_privilege, or an owner-only command given a station's URL): said in words,
    with who can do it and where (``kiosk.dbroles``), never as a raw permission error."""
