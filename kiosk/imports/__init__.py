"""Spreadsheet imports before the event: branches, staff, event tiers, catalog, the customer
list (客户名单), invitees, invitation reports, and the SMS platform's send reports (reminders
sent).

Pure: reading (``reading``), cell parsing (``cells``), the rules per kind (``kinds``), the
whole-file check (``check``) and the templates (``templates``). Writing the records is the
service ``kiosk.services.imports``, which refuses a file with any issue.
"""

from kiosk.imports.check import ImportCheck, check_sheet
from kiosk.imports.kinds import IMPORTABLE, KINDS, ORDER, ImportIssue, Reference

__all__ = [
    "IMPORTABLE",
    "KINDS",
    "ORDER",
    "ImportCheck",
    "ImportIssue",
    "Reference",
    "check_sheet",
]
