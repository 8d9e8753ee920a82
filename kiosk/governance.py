"""Information governance (信息治理): the KYC form's rules, field by field.

Every rule returns a sentence for the field it concerns, so the form can show it in the field
itself and save nothing until all fields are valid. The ID validity period follows the
resident ID law: issued before 16 -> 5 years, 16-25 -> 10 years, 26-45 -> 20 years, from 46
-> long-term (长期).

The form is also what the customer reads: ``field_states`` gives each field's mark as it is
typed (an expired end date stops being "expired" the moment a valid one is typed), and
``summary`` the before / after lines in words the customer would say aloud.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date

from kiosk.i18n import _
from kiosk.idcard import birth_date, gender, is_valid_mobile, is_valid_resident_id
from kiosk.kyc import OCCUPATIONS
from kiosk.labels import (
    gender_label,
    id_type_label,
    kyc_field_label,
    nationality_label,
    occupation_label,
    tax_residency_label,
    validity_label,
)
from kiosk.lengths import limit
from kiosk.masking import mask_address, mask_id, mask_phone, masked_is_mobile
from kiosk.models import Customer

FIELDS = (
    "name",
    "gender",
    "nationality",
    "occupation_code",
    "address",
    "phone",
    "id_type",
    "id_number",
    "id_valid_from",
    "id_valid_to",
    "id_long_term",
    "tax_residency",
)
SEALED = ("phone", "id_number", "address")
VALIDITY = ("id_valid_from", "id_valid_to", "id_long_term")
ID_TYPES = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent")
TAX_RESIDENCIES = ("CN", "CN_AND_OTHER", "OTHER")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")
# What the customer table holds (PostgreSQL refuses more; SQLite would keep it silently): a
# longer value is refused in the form, in words, never by the database. An address is stored
# sealed, but in clear (legacy_address) while the event has no privacy key.
NAME_MAX = limit(Customer.name) or 64
ID_NUMBER_MAX = min(limit(Customer.legacy_id_number) or 32, limit(Customer.id_masked) or 32)
ADDRESS_MAX = limit(Customer.legacy_address) or 300


@dataclass(frozen=True)
class KycForm:
    """What the RM typed; dates already parsed by the form.

    Phone, ID number and address are sealed in the event database, so a form read from it
    holds their masks; None (or the mask itself) in a saved form keeps the value on record.
    """

    name: str
    gender: str | None
    nationality: str | None
    occupation_code: str | None
    address: str | None
    phone: str | None
    id_type: str
    id_number: str | None
    id_valid_from: date | None
    id_valid_to: date | None
    id_long_term: bool
    tax_residency: str | None


def normalized(form: KycForm) -> KycForm:
    """The form as it is judged and saved: a long-term ID has no end date (ticking 长期
    drops one left in the field), the ID number and nationality in capitals, the name
    without stray spaces."""
    return replace(
        form,
        name=" ".join(form.name.split()),
        nationality=form.nationality.strip().upper() if form.nationality else form.nationality,
        id_number=form.id_number.strip().upper() if form.id_number else form.id_number,
        id_valid_to=None if form.id_long_term else form.id_valid_to,
    )


_LONG_TERM_WORDS = {"长期", "长期有效", "long-term", "longterm", "permanent"}
_DATE = re.compile(r"(\d{4})\s*[-./年]?\s*(\d{1,2})\s*[-./月]?\s*(\d{1,2})\s*日?")


def is_long_term_text(text: str) -> bool:
    """Whether what was typed in the end date says long-term, as the card does (长期)."""
    return unicodedata.normalize("NFKC", text).strip().lower() in _LONG_TERM_WORDS


def read_date(text: str) -> date | None:
    """A date typed as the ID card prints it (2016.05.03), as ISO (2016-05-03), as
    20160503 or 2016年5月3日; None for an empty field. Raises ``ValueError`` with the
    sentence to show under the field."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if match is not None and (not text.isdigit() or len(text) == 8):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(
        _("“{text}” is not a date: type it as on the card, e.g. 2016.05.03.").format(text=text)
    )


def validity_years(age_at_issue: int) -> int | None:
    """Years a resident ID issued at this age is valid; None means long-term."""
    if age_at_issue < 16:
        return 5
    if age_at_issue < 26:
        return 10
    if age_at_issue < 46:
        return 20
    return None


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def add_years(day: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class OnRecord:
    """What the event holds of the sealed fields: masks and the check made when stored."""

    phone_masked: str | None
    id_masked: str | None
    id_number_valid: bool | None
    address_masked: str | None
    id_type: str
    id_valid_from: date | None
    id_valid_to: date | None
    id_long_term: bool

    def kept(self, form: KycForm, field: str) -> bool:
        """Whether the form keeps the sealed field on record (left alone, or its mask)."""
        mask = getattr(self, "id_masked" if field == "id_number" else f"{field}_masked")
        value = getattr(form, field)
        return bool(mask) and (value is None or value == mask)


def validate(form: KycForm, today: date, record: OnRecord | None = None) -> dict[str, str]:
    """Field -> what is wrong with it; empty when the form can be saved.

    With ``record``, a sealed field the form keeps is judged by what is on record: its mask,
    and for the ID number the check made when it was stored. New ID dates are checked against
    the birth date inside the number, which the mask hides, so they need the number typed.
    """
    form = normalized(form)
    errors: dict[str, str] = {}
    number_kept = record is not None and record.kept(form, "id_number")
    if record is not None:
        kept = {f for f in SEALED if record.kept(form, f)}
        if kept:
            _check_kept(form, today, record, kept, errors)
            form = replace(
                form,
                phone=form.phone if "phone" not in kept else "13800000000",
                address=form.address if "address" not in kept else "(on record)",
                id_number=form.id_number if "id_number" not in kept else None,
            )
    if not form.name.strip():
        errors["name"] = _("The name is missing.")
    elif len(form.name.strip()) > NAME_MAX:
        errors["name"] = _("The name is too long (at most {n} characters).").format(n=NAME_MAX)
    if form.gender not in ("M", "F"):
        errors["gender"] = _("Choose the gender.")
    if not form.nationality or not _NATIONALITY.fullmatch(form.nationality):
        errors["nationality"] = _("Nationality is a 3-letter country code, e.g. CHN.")
    if form.occupation_code not in OCCUPATIONS:
        errors["occupation_code"] = _("Choose the occupation from the list.")
    if not form.address or len(form.address.strip()) < 5:
        errors["address"] = _("The address is missing or too short.")
    elif len(form.address) > ADDRESS_MAX:
        errors["address"] = _("The address is too long (at most {n} characters).").format(
            n=ADDRESS_MAX
        )
    if not form.phone or not is_valid_mobile(form.phone):
        errors["phone"] = _("A mainland mobile number has 11 digits and starts with 1.")
    if form.tax_residency not in TAX_RESIDENCIES:
        errors["tax_residency"] = _("Choose the tax-residency declaration.")
    if form.id_type not in ID_TYPES:
        errors["id_type"] = _("Choose the ID type.")
    number = (form.id_number or "").strip().upper()
    if not number:
        if "id_number" not in errors and not (record and record.kept(form, "id_number")):
            errors["id_number"] = _("The ID number is missing.")
    elif len(number) > ID_NUMBER_MAX:
        errors["id_number"] = _("An ID number has at most {n} characters.").format(n=ID_NUMBER_MAX)
    elif form.id_type == "resident_id":
        _check_resident_id(form, number, today, errors)
    if form.id_valid_from is None:
        errors["id_valid_from"] = _("The issue date is missing.")
    elif form.id_valid_from > today:
        errors["id_valid_from"] = _("The issue date is in the future.")
    if form.id_long_term:
        if form.id_valid_to is not None:
            errors["id_valid_to"] = _("A long-term ID has no end date.")
    elif form.id_valid_to is None:
        errors["id_valid_to"] = _("The end date is missing (or tick long-term).")
    elif form.id_valid_to < today:
        errors["id_valid_to"] = _("This ID expired on {date}; ask for the renewed one.").format(
            date=form.id_valid_to.isoformat()
        )
    elif form.id_valid_from and form.id_valid_to <= form.id_valid_from:
        errors["id_valid_to"] = _("The end date is before the issue date.")
    elif (
        number_kept
        and record is not None
        and form.id_type == "resident_id"
        and form.id_valid_from is not None
        and (form.id_valid_from, form.id_valid_to) != (record.id_valid_from, record.id_valid_to)
        and form.id_valid_to not in {add_years(form.id_valid_from, n) for n in (5, 10, 20)}
    ):
        # The number on record is sealed, so the age at issue is unknown here; the period
        # itself is still one of the law's: the same day 5, 10 or 20 years on.
        errors["id_valid_to"] = _(
            "A resident ID is valid for 5, 10 or 20 years: the end date is the issue date's "
            "day that many years later. Check both dates on the card."
        )
    return errors


def field_states(form: KycForm, today: date, record: OnRecord | None = None) -> dict[str, str]:
    """Each field's mark for the form as typed now: "ok", "missing", "expired" or "invalid"
    (the ``validate`` rules, so a mark goes the moment its field is put right)."""
    errors = validate(form, today, record)
    form = normalized(form)
    states: dict[str, str] = {}
    for field in FIELDS:
        if field not in errors:
            states[field] = "ok"
            continue
        value = getattr(form, field)
        kept = record is not None and field in SEALED and record.kept(form, field)
        if field == "id_valid_to" and form.id_valid_to is not None and form.id_valid_to < today:
            states[field] = "expired"
        elif value in (None, "") and not kept:
            states[field] = "missing"
        else:
            states[field] = "invalid"
    return states


_MASKERS = {"phone": mask_phone, "id_number": mask_id, "address": mask_address}


def _shown(field: str, value: object) -> str:
    """A value as the customer would say it aloud; "—" for nothing."""
    if value is None or value == "":
        return "—"
    text = str(value)
    labels = {
        "gender": gender_label,
        "nationality": nationality_label,
        "occupation_code": occupation_label,
        "id_type": id_type_label,
        "tax_residency": tax_residency_label,
    }
    return labels[field](text) if field in labels else text


def summary(
    before: KycForm, after: KycForm, record: OnRecord | None = None
) -> list[tuple[str, str, str]]:
    """The changes the customer reads and confirms: (item, before, after), in words.

    Codes become their names (an occupation, 男 / 女, a document type, a country), the three
    validity fields one line ("2016-05-03 至 长期"), and phone, ID number and address stay
    masked; a number typed again whose mask is the same as before says so, so the line never
    looks unchanged. ``before`` is the form as loaded (masks for the sealed fields).
    """
    after = normalized(after)
    rows: list[tuple[str, str, str]] = []
    for field in FIELDS:
        if field in VALIDITY:
            if field != "id_valid_from":
                continue
            old = (before.id_valid_from, before.id_valid_to, before.id_long_term)
            new = (after.id_valid_from, after.id_valid_to, after.id_long_term)
            if old != new:
                rows.append(
                    (kyc_field_label("id_valid_to"), validity_label(*old), validity_label(*new))
                )
            continue
        old_value, new_value = getattr(before, field), getattr(after, field)
        if field in SEALED:
            mask = str(old_value or "")
            if not new_value or (record is not None and record.kept(after, field)):
                continue  # kept: the sealed value on record
            if record is None and new_value == mask:
                continue
            shown = _MASKERS[field](str(new_value))
            if shown == mask:
                shown = _("{masked} (typed again)").format(masked=shown)
            rows.append((kyc_field_label(field), mask or "—", shown))
            continue
        if (old_value or None) == (new_value or None):
            continue
        rows.append((kyc_field_label(field), _shown(field, old_value), _shown(field, new_value)))
    return rows


def _check_kept(
    form: KycForm, today: date, record: OnRecord, kept: set[str], errors: dict[str, str]
) -> None:
    """The checks a sealed field kept on record still allows."""
    if "phone" in kept and not masked_is_mobile(record.phone_masked):
        errors["phone"] = _("The phone on record is not a valid mobile: type the customer's.")
    if "id_number" not in kept:
        return
    if form.id_type != record.id_type:
        errors["id_number"] = _("Another kind of document: type its number from the card.")
        return
    masked = record.id_masked or ""
    if form.id_type == "resident_id":
        if not record.id_number_valid:
            errors["id_number"] = _("The ID number on record is not valid: type it from the card.")
        elif form.gender in ("M", "F") and len(masked) == 18 and gender(masked) != form.gender:
            errors["gender"] = _("The ID number says {gender}.").format(
                gender=_("male") if gender(masked) == "M" else _("female")
            )


def _check_resident_id(form: KycForm, number: str, today: date, errors: dict[str, str]) -> None:
    if len(number) == 18 and number[:17].isdigit() and not is_valid_resident_id(number):
        try:
            birth_date(number)
        except ValueError:
            errors["id_number"] = _("The birth date inside the ID number is impossible.")
            return
        errors["id_number"] = _("The check digit is wrong: a digit was mistyped.")
        return
    if not is_valid_resident_id(number):
        errors["id_number"] = _("A resident ID has 18 characters: 17 digits and a digit or X.")
        return
    if form.gender in ("M", "F") and gender(number) != form.gender:
        errors["gender"] = _("The ID number says {gender}.").format(
            gender=_("male") if gender(number) == "M" else _("female")
        )
    born = birth_date(number)
    if form.id_valid_from is None or "id_valid_from" in errors:
        return
    if form.id_valid_from < born:
        errors["id_valid_from"] = _("The issue date is before the birth date in the ID number.")
        return
    years = validity_years(age_on(born, form.id_valid_from))
    if years is None:
        if not form.id_long_term:
            errors["id_valid_to"] = _(
                "Issued at 46 or older, a resident ID is long-term: tick long-term."
            )
    elif form.id_long_term:
        errors["id_valid_to"] = _("Issued before 46, a resident ID is valid for {n} years.").format(
            n=years
        )
    elif form.id_valid_to is not None and form.id_valid_to != add_years(form.id_valid_from, years):
        errors["id_valid_to"] = _(
            "Issued at this age, the ID is valid for {n} years: until {date}."
        ).format(n=years, date=add_years(form.id_valid_from, years).isoformat())
