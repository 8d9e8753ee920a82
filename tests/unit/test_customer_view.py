"""What the customer screen may show (``kiosk.customer_view``): masked values only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from kiosk.customer_view import CartSums, activation_view, changes_shown
from kiosk.governance import KycForm, OnRecord
from kiosk.i18n import speaking
from kiosk.services.activation import CatalogOffer
from kiosk.services.slips import SlipRow

BEFORE = KycForm(
    name="周凤建",
    gender="F",
    nationality="CHN",
    occupation_code="6",
    address="广州市海珠区****",
    phone="136****3436",
    id_type="resident_id",
    id_number="440105********0206",
    id_valid_from=date(2014, 6, 11),
    id_valid_to=date(2024, 6, 11),
    id_long_term=False,
    tax_residency="CN",
)
RECORD = OnRecord(
    "136****3436",
    "440105********0206",
    True,
    "广州市海珠区****",
    "resident_id",
    date(2014, 6, 11),
    date(2024, 6, 11),
    False,
)


def test_the_changes_are_masked_the_name_too() -> None:
    after = replace(
        BEFORE,
        name="周凤健",  # one character corrected: the mask alone would look unchanged
        phone="13912345678",
        id_number="440106199001010021",
        address="广州市天河区天河路 1 号",
    )
    with speaking("en"):
        rows = {row.item: (row.before, row.after) for row in changes_shown(BEFORE, after, RECORD)}
    assert rows["Name"] == ("周**", "周** (changed)")
    assert rows["Mobile phone"] == ("136****3436", "139****5678")
    assert rows["ID number"][1] == "440106********0021"
    assert rows["Address"][1] == "广州市天河区****"
    text = repr(rows)
    for secret in ("周凤", "13912345678", "19900101", "天河路"):
        assert secret not in text


def test_nothing_changed_is_no_line() -> None:
    assert changes_shown(BEFORE, replace(BEFORE, phone=None), RECORD) == ()


def _slip(serial: int, status: str, points: int) -> SlipRow:
    return SlipRow(serial, "洁亮汽车美容", "精致洗车一次", 1, points, status, 1, None, "")  # type: ignore[arg-type]


def _offer(code: str, name: str, price: int) -> CatalogOffer:
    return CatalogOffer(
        code, name, "汽车", "M05", "洁亮汽车美容", "B5", price, 10, date(2026, 12, 31), ""
    )


def test_the_slips_in_the_order_issued_without_the_voided() -> None:
    offer = _offer("O501", "精致洗车一次", 1_500)
    view = activation_view(
        "胡**",
        "J001",
        24_000,
        [_slip(3, "issued", 1_500), _slip(2, "voided", 9_000), _slip(1, "redeemed", 1_500)],
        {"O501": 2, "GONE": 1},
        {"O501": offer},
    )
    assert [slip.serial for slip in view.slips] == [1, 3]
    assert [(c.service, c.quantity, c.points) for c in view.chosen] == [("精致洗车一次", 2, 3_000)]
    assert view.points == 24_000 and view.masked_name == "胡**"
    # The code no longer listed is in neither the lines nor the total: they add up.
    assert view.sums == CartSums(3_000, 24_000)
    assert view.sums.left == 21_000 and view.sums.short == 0


def test_the_chosen_services_add_up_against_the_points() -> None:
    """Before any slip: the total of the cart, what it leaves, or how many points it lacks;
    the issued slips are taken off the points already (the desk's balance), not again."""
    offers = {"O501": _offer("O501", "精致洗车一次", 1_500), "O101": _offer("O101", "体检", 12_000)}
    issued = [_slip(1, "issued", 1_500)]
    fits = activation_view("胡**", "J001", 20_000, issued, {"O501": 3, "O101": 1}, offers)
    assert fits.sums == CartSums(16_500, 20_000)
    assert (fits.sums.left, fits.sums.short) == (3_500, 0)
    exact = activation_view("胡**", "J001", 16_500, issued, {"O501": 3, "O101": 1}, offers)
    assert exact.sums is not None and (exact.sums.left, exact.sums.short) == (0, 0)
    over = activation_view("胡**", "J001", 20_000, issued, {"O501": 3, "O101": 2}, offers)
    assert over.sums == CartSums(28_500, 20_000)
    assert (over.sums.left, over.sums.short) == (-8_500, 8_500)
    assert [slip.serial for slip in over.slips] == [1]
    # Nothing chosen (the cart emptied, or issued): no sum to show, the slips as they are.
    issued_only = activation_view("胡**", "J001", 18_500, issued, {}, offers)
    assert issued_only.chosen == () and issued_only.sums is None
