"""Customers who did what the event requires before slips, for tests about something else.

The redemption gate (``kiosk.services.gate``) refuses slips to a demo customer with gaps in
their data or without active mobile banking, as it must. Tests of issuing, printing, booths,
sync and the rest prepare their customer with ``make_ready``: the state the service desk and
the activation desk's F6 leave behind (data complete and valid, mobile banking active), set
directly as test setup. The gate itself is tested in tests/unit/kiosk/services/test_gate.py and
tests/ui/test_activation_gate.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kiosk import audit
from kiosk.db import Database
from kiosk.kyc import OCCUPATIONS
from kiosk.masking import masked_is_mobile
from kiosk.models import Customer, MobileBanking


def make_ready(db: Database, *customer_ids: int) -> None:
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        for customer in uow.session.scalars(select(Customer).where(Customer.id.in_(customer_ids))):
            ready(customer)
        uow.commit()


def make_ready_by_number(db: Database, *customer_nos: str) -> None:
    with db.unit_of_work() as uow:
        ids = uow.session.scalars(
            select(Customer.id).where(Customer.customer_no.in_(customer_nos))
        ).all()
    assert len(ids) == len(customer_nos), customer_nos
    make_ready(db, *ids)


def ready(customer: Customer) -> None:
    """Fill what ``governance_gaps`` would flag, keeping what is already right."""
    if not customer.id_masked or not customer.id_number_valid:
        customer.id_type = "resident_id"
        customer.id_masked = customer.id_masked or "440106********0011"
        customer.id_number_valid = True
    if not customer.id_long_term and (
        customer.id_valid_to is None or customer.id_valid_to < date(2030, 1, 1)
    ):
        customer.id_valid_to = date(2036, 6, 1)
    if not masked_is_mobile(customer.phone_masked):
        customer.phone_masked, customer.phone_last4 = "138****0011", "0011"
    if customer.occupation_code not in OCCUPATIONS:
        customer.occupation_code = "2"
    customer.address_masked = customer.address_masked or "广东省广州市天河区"
    customer.nationality = customer.nationality or "CHN"
    customer.gender = customer.gender or "M"
    customer.tax_residency = customer.tax_residency or "CN"
    customer.mobile_banking = MobileBanking.ACTIVE
