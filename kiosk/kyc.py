"""KYC reference data and the checks that say whether a customer needs governance.

Occupation codes are the major groups of GB/T 6565-2015 (职业分类与代码), which the bank's
occupation list extends; a customer needs the service desk when a KYC field is missing,
invalid or expired (see ``governance_gaps``).
"""

from __future__ import annotations

from datetime import date

from kiosk.masking import masked_is_mobile
from kiosk.models import Customer

OCCUPATIONS: dict[str, str] = {
    "1": "党的机关、国家机关、群众团体和社会组织、企事业单位负责人",
    "2": "专业技术人员",
    "3": "办事人员和有关人员",
    "4": "社会生产服务和生活服务人员",
    "5": "农、林、牧、渔业生产及辅助人员",
    "6": "生产制造及有关人员",
    "7": "军人",
    "8": "不便分类的其他从业人员",
    "9": "离退休人员",
}

# Field -> problem: "missing", "invalid" or "expired".
Gaps = dict[str, str]


def governance_gaps(customer: Customer, today: date) -> Gaps:
    """Which KYC fields the service desk must fix before the customer redeems."""
    gaps: Gaps = {}
    # Judged on the masked forms and the check made when the full value was stored: the
    # full values are sealed (kiosk.privacy).
    if not customer.id_masked:
        gaps["id_number"] = "missing"
    elif customer.id_type == "resident_id" and not customer.id_number_valid:
        gaps["id_number"] = "invalid"
    if not customer.id_long_term:
        if customer.id_valid_to is None:
            gaps["id_valid_to"] = "missing"
        elif customer.id_valid_to < today:
            gaps["id_valid_to"] = "expired"
    if not customer.phone_masked:
        gaps["phone"] = "missing"
    elif not masked_is_mobile(customer.phone_masked):
        gaps["phone"] = "invalid"
    for field in ("occupation_code", "address_masked", "nationality", "gender", "tax_residency"):
        if not getattr(customer, field):
            gaps[field.removesuffix("_masked")] = "missing"
    if customer.occupation_code and customer.occupation_code not in OCCUPATIONS:
        gaps["occupation_code"] = "invalid"
    return gaps
