"""After the event (#21): follow-up contacts, service delivery, feedback, merchant review and
the approved-merchant register, settlement rates in yuan

New tables only, and nullable columns: nothing to move.

Revision ID: 3bb4e66fa4c9
Revises: 3c8d51a7e2f0
Create Date: 2026-12-06 18:41:28.407704
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "3bb4e66fa4c9"
down_revision: str | None = "3c8d51a7e2f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_code", sa.String(length=16), nullable=False),
        sa.Column("merchant_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("source_event", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('keep', 'warn', 'exit')", name=op.f("ck_register_entry_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entry")),
        sa.UniqueConstraint("merchant_code", name=op.f("uq_register_entry_merchant_code")),
    )
    op.create_table(
        "merchant_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("scorecard", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('keep', 'warn', 'exit')", name=op.f("ck_merchant_review_decision")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_merchant_review_decided_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_merchant_review_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchant.id"], name=op.f("fk_merchant_review_merchant_id_merchant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_review")),
    )
    with op.batch_alter_table("merchant_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_review_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "register_signer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("event_code", sa.String(length=16), nullable=False),
        sa.Column("trusted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trusted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trusted_by"], ["staff.id"], name=op.f("fk_register_signer_trusted_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_signer")),
        sa.UniqueConstraint("key_id", name=op.f("uq_register_signer_key_id")),
    )
    op.create_table(
        "followup_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('reached', 'appointment', 'business', 'declined', 'unreachable')",
            name=op.f("ck_followup_contact_outcome"),
        ),
        sa.CheckConstraint(
            "stage IN ('no_show', 'no_slip', 'unredeemed', 'redeemed', 'reactivated', 'mobile_banking')",
            name=op.f("ck_followup_contact_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_followup_contact_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_followup_contact_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_followup_contact_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["rm_id"], ["staff.id"], name=op.f("fk_followup_contact_rm_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_contact")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_followup_contact_fingerprint")),
    )
    with op.batch_alter_table("followup_contact", schema=None) as batch_op:
        batch_op.create_index(
            "ix_followup_contact_event_customer", ["event_id", "customer_id"], unique=False
        )

    op.create_table(
        "service_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_service_delivery_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_service_delivery_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["slip_id"], ["slip.id"], name=op.f("fk_service_delivery_slip_id_slip")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_delivery")),
        sa.UniqueConstraint("slip_id", name=op.f("uq_service_delivery_slip_id")),
    )
    op.create_table(
        "slip_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("complaint", sa.Text(), nullable=False),
        sa.Column("said_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booth_staff", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "category IS NULL OR category IN ('refused', 'conditions', 'quality', 'other')",
            name=op.f("ck_slip_feedback_category"),
        ),
        sa.CheckConstraint(
            "channel IN ('call', 'file', 'booth')", name=op.f("ck_slip_feedback_channel")
        ),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 1 AND score <= 5)",
            name=op.f("ck_slip_feedback_score_1_to_5"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_slip_feedback_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_slip_feedback_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["slip_id"], ["slip.id"], name=op.f("fk_slip_feedback_slip_id_slip")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_feedback")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_slip_feedback_fingerprint")),
    )
    with op.batch_alter_table("slip_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slip_feedback_slip_id"), ["slip_id"], unique=False)

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_score_floor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_complaints", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_delivery_days", sa.Integer(), nullable=True))

    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_micro", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_fen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_column("price_fen")

    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.drop_column("rate_micro")

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("review_delivery_days")
        batch_op.drop_column("review_complaints")
        batch_op.drop_column("review_score_floor")

    with op.batch_alter_table("slip_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slip_feedback_slip_id"))

    op.drop_table("slip_feedback")
    op.drop_table("service_delivery")
    with op.batch_alter_table("followup_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_followup_contact_event_customer")

    op.drop_table("followup_contact")
    op.drop_table("register_signer")
    with op.batch_alter_table("merchant_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_review_merchant_id"))

    op.drop_table("merchant_review")
    op.drop_table("register_entry")
