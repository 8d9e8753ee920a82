"""RMs' personal invitation codes (issue #20): every active member of staff with the RM role
holds one, given when the staff import creates them or on demand (``kiosk rm codes
--staff``, the admin's poster button); a code once given is kept, so a printed poster stays
valid."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.invitations import new_rm_code
from kiosk.models import Role, Staff


def assign(session: Session, rng: random.Random | None = None) -> list[Staff]:
    """Give a code to every active RM without one; returns them, by staff number."""
    members = list(session.scalars(select(Staff).order_by(Staff.staff_no)))
    used = {m.invite_code for m in members if m.invite_code}
    rng = rng or random.SystemRandom()
    given = []
    for member in members:
        if member.invite_code or not member.active or Role.RM not in member.roles.split():
            continue
        member.invite_code = new_rm_code(rng, used)
        given.append(member)
    if given:
        session.flush()
    return given
