"""Search keys for reception, an audit index for "who is signed in", undo deletes a visit

Revision ID: 890b843cef45
Revises: 6b1407ad8ce6
Create Date: 2026-11-23 15:51:06.540919
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kiosk.search_keys import customer_keys

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.
# ``customer_keys`` is a pure function of a customer's fields, stable by design.


revision: str = "890b843cef45"
down_revision: str | None = "6b1407ad8ce6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "key",
            sa.String(length=80).with_variant(sa.String(length=80, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_search_key_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_key")),
        sa.UniqueConstraint("key", "customer_id", name=op.f("uq_search_key_key")),
    )
    with op.batch_alter_table("search_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_key_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_record_staff_action", ["staff_id", "action", "id"], unique=False
        )

    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("undone_at")

    # Backfill the keys of customers already in the database.
    bind = op.get_bind()
    codes: dict[int, list[str]] = {}
    for customer_id, code in bind.execute(sa.text("SELECT customer_id, code FROM invitation")):
        codes.setdefault(customer_id, []).append(code)
    rows = [
        {"key": key, "customer_id": customer_id}
        for customer_id, name, phone, customer_no in bind.execute(
            sa.text("SELECT id, name, phone, customer_no FROM customer")
        )
        for key in customer_keys(name, phone, customer_no, codes.get(customer_id, []))
    ]
    if rows:
        bind.execute(
            sa.text("INSERT INTO search_key (key, customer_id) VALUES (:key, :customer_id)"), rows
        )


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_record_staff_action")

    with op.batch_alter_table("search_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_key_customer_id"))

    op.drop_table("search_key")
