"""Personal data at rest: masked forms in clear, full values sealed (privacy, #11)

Adds the event's privacy key, the masked and sealed columns of phone, ID number and address,
and ``outbox_entry.sealed``. Sealing needs the event passphrase, which a migration never has:
the clear values stay where they were (``customer.phone``, ``id_number``, ``address``, read as
``legacy_*``) and keep working until ``kiosk event encrypt`` seals them. What needs no key is
done here: the masked forms and the ID check are filled in, and the phone, ID and address in
governance records and in outbox entries the ledger already has are masked.

Revision ID: 5f1d0c9a7e21
Revises: 834a53fecced
Create Date: 2026-11-23 19:20:06.718418
"""

import json
import re
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later;
# for the same reason the masking and the ID check are copied here, not imported.

revision: str = "5f1d0c9a7e21"
down_revision: str | None = "834a53fecced"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED_FIELDS = ("phone", "id_number", "address")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_MASKED_MOBILE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")


def _mask_id(number: str | None) -> str | None:
    if not number:
        return None
    if len(number) <= 10:
        return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    masked = (
        phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) >= 7 else "*" * len(phone)
    )
    if _MASKED_MOBILE.fullmatch(masked) and not _MOBILE.fullmatch(phone):
        return "*" * len(phone)  # the mask must not make an invalid number look valid
    return masked


def _mask_address(address: str | None) -> str | None:
    if not address:
        return None
    keep = 6 if len(address) > 8 else max(len(address) // 3, 1)
    return address[:keep] + "****"


def _valid_id(number: str | None) -> bool | None:
    if not number:
        return None
    number = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


MASKS = {"phone": _mask_phone, "id_number": _mask_id, "address": _mask_address}


def upgrade() -> None:
    op.create_table(
        "privacy_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("locked_private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_privacy_key_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_key")),
    )
    # Adding nullable columns needs no table rebuild on SQLite.
    for name, type_ in (
        ("address_masked", sa.String(length=32)),
        ("address_sealed", sa.Text()),
        ("phone_masked", sa.String(length=20)),
        ("phone_sealed", sa.Text()),
        ("id_masked", sa.String(length=32)),
        ("id_number_sealed", sa.Text()),
        ("id_number_valid", sa.Boolean()),
    ):
        op.add_column("customer", sa.Column(name, type_, nullable=True))
    op.add_column(
        "outbox_entry", sa.Column("sealed", sa.Boolean(), server_default="0", nullable=False)
    )

    bind = op.get_bind()
    rows = [
        {
            "row_id": row_id,
            "phone": _mask_phone(phone),
            "id": _mask_id(number),
            "address": _mask_address(address),
            "valid": _valid_id(number),
        }
        for row_id, phone, number, address in bind.execute(
            sa.text("SELECT id, phone, id_number, address FROM customer")
        )
    ]
    if rows:
        bind.execute(
            sa.text(
                "UPDATE customer SET phone_masked = :phone, id_masked = :id, "
                "address_masked = :address, id_number_valid = :valid WHERE id = :row_id"
            ),
            rows,
        )
    changes = [
        {
            "row_id": row_id,
            "old": MASKS[field](old) if old else old,
            "new": MASKS[field](new) if new else new,
        }
        for row_id, field, old, new in bind.execute(
            sa.text(
                "SELECT id, field, old_value, new_value FROM governance_change "
                "WHERE field IN ('phone', 'id_number', 'address')"
            )
        )
    ]
    if changes:
        bind.execute(
            sa.text(
                "UPDATE governance_change SET old_value = :old, new_value = :new WHERE id = :row_id"
            ),
            changes,
        )
    # The ledger has these already; pending ones are sealed by ``kiosk event encrypt``.
    sent = []
    for row_id, payload in bind.execute(
        sa.text(
            "SELECT id, payload FROM outbox_entry WHERE kind = 'governance' AND status <> 'pending'"
        )
    ):
        data = json.loads(payload)
        for field in SEALED_FIELDS:
            if data.get("changes", {}).get(field):
                data["changes"][field] = MASKS[field](data["changes"][field])
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        sent.append({"row_id": row_id, "payload": text})
    if sent:
        bind.execute(sa.text("UPDATE outbox_entry SET payload = :payload WHERE id = :row_id"), sent)


def downgrade() -> None:
    with op.batch_alter_table("outbox_entry", schema=None) as batch_op:
        batch_op.drop_column("sealed")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name in (
            "id_number_valid",
            "id_number_sealed",
            "id_masked",
            "phone_sealed",
            "phone_masked",
            "address_sealed",
            "address_masked",
        ):
            batch_op.drop_column(name)
    op.drop_table("privacy_key")
