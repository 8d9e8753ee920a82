"""User-facing names of domain values, translated; one place so CLI, UI and print agree."""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.models import FeedbackCategory, Queue, Role, ServiceCategory
from kiosk.roles import Station


def role_label(role: Role | str) -> str:
    return {
        Role.RECEPTION: _("Reception"),
        Role.RM: _("Relationship manager"),
        Role.ACTIVATION: _("Activation"),
        Role.MERCHANT: _("Merchant"),
        Role.SUPERVISOR: _("Supervisor"),
    }[Role(role)]


def station_label(station: Station | str) -> str:
    return {
        Station.OVERVIEW: _("Event overview"),
        Station.RECEPTION: _("Reception"),
        Station.SERVICE_DESK: _("Service desk"),
        Station.ACTIVATION: _("Activation desk"),
        Station.MERCHANT: _("Merchant booth"),
        Station.DASHBOARD: _("Dashboard"),
        Station.ADMIN: _("Administration"),
        Station.MY_CUSTOMERS: _("My customers"),
    }[Station(station)]


def feedback_category_label(category: str | None) -> str:
    """What a complaint is about, in the same words on the booth, at the desk, in the call
    list and on the merchant scorecard (its code otherwise)."""
    if category is None:
        return ""
    return {
        FeedbackCategory.REFUSED: _("refused"),
        FeedbackCategory.CONDITIONS: _("extra conditions"),
        FeedbackCategory.QUALITY: _("quality"),
        FeedbackCategory.OTHER: _("other"),
    }.get(category, category)


def category_label(category: ServiceCategory | str) -> str:
    return {
        ServiceCategory.HEALTH: _("Health"),
        ServiceCategory.TRAVEL: _("Travel"),
        ServiceCategory.INSURANCE: _("Insurance"),
        ServiceCategory.CAR: _("Car care"),
        ServiceCategory.MOVIE: _("Movies"),
        ServiceCategory.DINING: _("Dining"),
        ServiceCategory.FAMILY: _("Parent and child"),
        ServiceCategory.LEISURE: _("Leisure"),
    }[ServiceCategory(category)]


def queue_label(queue: Queue | str) -> str:
    return {Queue.SERVICE_DESK: _("Service desk"), Queue.ACTIVATION: _("Activation desk")}[
        Queue(queue)
    ]


def tier_label(tier: str) -> str:
    return {
        "standard": _("Standard"),
        "gold": _("Gold"),
        "platinum": _("Platinum"),
        "diamond": _("Diamond"),
    }.get(tier, tier)


def kyc_field_label(field: str) -> str:
    return {
        "id_number": _("ID number"),
        "id_valid_to": _("ID validity"),
        "phone": _("Mobile phone"),
        "occupation_code": _("Occupation"),
        "address": _("Address"),
        "nationality": _("Nationality"),
        "gender": _("Gender"),
        "tax_residency": _("Tax residency"),
        "name": _("Name"),
        "id_type": _("ID type"),
        "id_valid_from": _("Issued on"),
        "id_long_term": _("Long-term"),
    }.get(field, field)


def step_label(step: str) -> str:
    """A visit step as the timeline shows it."""
    return {
        "check_in": _("Checked in"),
        "called": _("Called"),
        "governance": _("Details governed"),
        "mobile_banking_opened": _("Mobile banking opened"),
        "service_desk_done": _("Sent to activation"),
        "mobile_banking_login": _("Logged in to mobile banking"),
        "charity_paid": _("Charity scan-pay done"),
        "prize_given": _("Prize handed out"),
        "slips_issued": _("Slips issued"),
        "gate_overridden": _("Let through by a supervisor before the required steps"),
        "activation_done": _("Left the activation desk"),
    }.get(step, step)


def gap_label(problem: str) -> str:
    return {"missing": _("missing"), "invalid": _("invalid"), "expired": _("expired")}.get(
        problem, problem
    )


def verdict_label(verdict: str) -> str:
    from kiosk.slipcode import Verdict

    return {
        Verdict.VALID: _("Valid"),
        Verdict.ALREADY_REDEEMED: _("Already redeemed"),
        Verdict.OTHER_MERCHANT: _("For another merchant"),
        Verdict.OTHER_EVENT: _("For another event"),
        Verdict.EXPIRED: _("Expired"),
        Verdict.REVOKED: _("Voided"),
        Verdict.BAD_SIGNATURE: _("Bad signature: altered or forged"),
        Verdict.UNREADABLE: _("Unreadable: not a slip code"),
    }[Verdict(verdict)]


def audit_action_label(action: str) -> str:
    """An audit record's action code in words; unknown codes show as they are."""
    labels = {
        "sign_in": _("Signed in"),
        "sign_in_failed": _("Wrong PIN"),
        "sign_in_locked": _("Sign-in locked"),
        "sign_in_unknown": _("Unknown staff number"),
        "sign_out": _("Signed out"),
        "approval_given": _("Supervisor approved"),
        "approval_refused": _("Approval refused: not a supervisor"),
        "approval_failed": _("Approval: wrong PIN"),
        "approval_locked": _("Approval: sign-in locked"),
        "approval_unknown": _("Approval: unknown staff number"),
        "screen_locked": _("Screen locked (idle)"),
        "screen_unlocked": _("Screen unlocked"),
        "check_in": _("Checked in"),
        "check_in_undone": _("Check-in undone"),
        "walk_in_registered": _("Walk-in registered"),
        "called": _("Called"),
        "no_show": _("No show"),
        "requeued": _("Back in the queue"),
        "routed_on": _("Sent on"),
        "transferred": _("Transferred"),
        "governance": _("Details governed"),
        "mobile_banking_opened": _("Mobile banking opened"),
        "activation_done": _("Left the activation desk"),
        "slip_issued": _("Slip issued"),
        "slip_printed": _("Slip printed"),
        "slip_print_failed": _("Slip print failed"),
        "statement_printed": _("Points statement printed"),
        "statement_print_failed": _("Points statement print failed"),
        "slip_voided": _("Slip voided"),
        "slip_redeemed": _("Slip redeemed"),
        "redemption_conflict": _("Redemption conflict (slip used twice)"),
        "bundle_imported": _("Booth bundle imported"),
        "merchant_pack_exported": _("Merchant pack exported"),
        "signing_key_created": _("Signing key created"),
        "event_created": _("Event created"),
        "event_closed": _("Event closed"),
        "slips_released": _("Expired slips released"),
        "catalog_url_set": _("Catalog address set"),
        "redeem_requirements_set": _("Steps required before slips set"),
        "figure_settings_set": _("Bank points stock or next event set"),
        "invite_codes_issued": _("RM invitation codes given"),
        "demo_generated": _("Demo event generated"),
        "personal_data_encrypted": _("Personal data sealed"),
        "personal_data_purged": _("Personal data removed"),
        "import_branches": _("Branches imported"),
        "import_staff": _("Staff imported"),
        "import_tiers": _("Event tiers imported"),
        "import_catalog": _("Catalog imported"),
        "import_customers": _("Customer list imported"),
        "theme_set": _("Themed session set"),
        "theme_replaced": _("Themed session changed"),
        "theme_removed": _("Themed session removed"),
        "theme_invited": _("Themed session's audience invited"),
        "import_invitees": _("Invitees imported"),
        "import_invitations": _("Invitation reports imported"),
        "import_reminder_report": _("SMS send report imported"),
        "import_deliveries": _("Services delivered imported"),
        "import_feedback": _("Satisfaction calls imported"),
        "service_delivered": _("Service delivered"),
        "service_delivery_changed": _("Service delivery time changed"),
        "slip_feedback": _("Customer feedback recorded"),
        "import_followup": _("Follow-up workbook imported"),
        "review_thresholds_set": _("Merchant review thresholds set"),
        "merchant_decided": _("Merchant review decision recorded"),
        "merchant_register_exported": _("Approved-merchant register exported"),
        "merchant_register_imported": _("Approved-merchant register imported"),
        "register_signer_trusted": _("Register signer trusted"),
        "reminders_recorded": _("Reminders sent recorded"),
        "window_settings_set": _("Arrival window settings set"),
        "windows_planned": _("Arrival windows planned"),
        "window_branch_moved": _("Branch moved to another arrival window"),
        "ledger_pushed": _("Sent to the points ledger"),
        "audit_checkpoint_signed": _("Audit chain checkpoint signed"),
        "ledger_pulled": _("Balances refreshed from the ledger"),
        "ledger_batch_exported": _("Batch file for the points ledger exported"),
        "ledger_key_trusted": _("Points ledger key trusted"),
        "ledger_snapshot_imported": _("Snapshot file of the points ledger imported"),
    }
    if action in labels:
        return labels[action]
    return step_label(action)  # activation steps use their own codes; else the raw code


# -- the KYC form's values, as a customer says them ------------------------------------------


def gender_label(gender: str) -> str:
    return {"M": _("male"), "F": _("female")}.get(gender, gender)


def id_type_label(id_type: str) -> str:
    return {
        "resident_id": _("Resident ID card"),
        "passport": _("Passport"),
        "hk_macao_permit": _("HK/Macao permit"),
        "taiwan_permit": _("Taiwan permit"),
        "foreign_permanent": _("Foreign permanent residence"),
    }.get(id_type, id_type)


def tax_residency_label(residency: str) -> str:
    return {
        "CN": _("Tax resident of China only"),
        "CN_AND_OTHER": _("China and another country"),
        "OTHER": _("Another country only"),
    }.get(residency, residency)


def occupation_label(code: str) -> str:
    """The occupation's name (GB/T 6565 major group); the code alone means nothing to a
    customer."""
    from kiosk.kyc import OCCUPATIONS

    return OCCUPATIONS.get(code, code)


def nationality_label(code: str) -> str:
    """The country of an ISO 3166 alpha-3 code, for the ones a branch in Guangzhou meets;
    any other code shows as it is."""
    return {
        "CHN": _("China"),
        "HKG": _("Hong Kong, China"),
        "MAC": _("Macao, China"),
        "TWN": _("Taiwan, China"),
        "USA": _("United States"),
        "GBR": _("United Kingdom"),
        "CAN": _("Canada"),
        "AUS": _("Australia"),
        "NZL": _("New Zealand"),
        "JPN": _("Japan"),
        "KOR": _("South Korea"),
        "SGP": _("Singapore"),
        "MYS": _("Malaysia"),
        "THA": _("Thailand"),
        "FRA": _("France"),
        "DEU": _("Germany"),
    }.get(code.upper(), code)


def validity_label(valid_from: object, valid_to: object, long_term: bool) -> str:
    """An ID's validity as the card prints it: "2016-05-03 to 2036-05-03" or "... to
    long-term"; "—" for a date not known, or for no validity at all."""
    start = valid_from.isoformat() if hasattr(valid_from, "isoformat") else "—"
    if not long_term and valid_from is None and valid_to is None:
        return "—"  # nothing on record: one dash, not "— to —"
    if long_term:
        end = _("long-term")
    else:
        end = valid_to.isoformat() if hasattr(valid_to, "isoformat") else "—"
    return _("{start} to {end}").format(start=start, end=end)


def duration_words(minutes: int) -> str:
    """Minutes as reception says them: "45 min", past an hour "4 h 30 min" (not "270 min")."""
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    hours, rest = divmod(minutes, 60)
    if not rest:
        return _("{h} h").format(h=hours)
    return _("{h} h {m} min").format(h=hours, m=rest)
