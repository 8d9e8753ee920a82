"""Information governance (信息治理): the KYC form's rules, field by field.

Every rule returns a sentence for the field it concerns, so the form can show it in the field
itself and save nothing until all fields are valid. The ID validity period follows the
resident ID law: issued before 16 -> 5 years, 16-25 -> 10 years, 26-45 -> 20 years, from 46
-> long-term (长期).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from kiosk.i18n import _
from kiosk.idcard import birth_date, gender, is_valid_mobile, is_valid_resident_id
from kiosk.kyc import OCCUPATIONS
from kiosk.masking import masked_is_mobile

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
ID_TYPES = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent")
TAX_RESIDENCIES = ("CN", "CN_AND_OTHER", "OTHER")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")


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
    errors: dict[str, str] = {}
    if record is not None:
        kept = {f for f in ("phone", "id_number", "address") if record.kept(form, f)}
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
    if form.gender not in ("M", "F"):
        errors["gender"] = _("Choose the gender.")
    if not form.nationality or not _NATIONALITY.fullmatch(form.nationality):
        errors["nationality"] = _("Nationality is a 3-letter country code, e.g. CHN.")
    if form.occupation_code not in OCCUPATIONS:
        errors["occupation_code"] = _("Choose the occupation from the list.")
    if not form.address or len(form.address.strip()) < 5:
        errors["address"] = _("The address is missing or too short.")
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
    return errors


def _check_kept(
    form: KycForm, today: date, record: OnRecord, kept: set[str], errors: dict[str, str]
) -> None:
    """The checks a sealed field kept on record still allows."""
    if "phone" in kept and not masked_is_mobile(record.phone_masked):
        errors["phone"] = _("The phone on record is not a valid mobile: type the customer's.")
    if "id_number" not in kept:
        return
    dates = (form.id_type, form.id_valid_from, form.id_valid_to, form.id_long_term)
    if dates != (record.id_type, record.id_valid_from, record.id_valid_to, record.id_long_term):
        errors["id_number"] = _(
            "Type the ID number from the card: new ID details are checked against it."
        )
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
