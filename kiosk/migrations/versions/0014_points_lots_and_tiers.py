"""Points in lots with expiry dates, event tiers by AUM with per-tier prices and quotas (#19)

Every existing customer gets one lot: their balance, no expiry (what a simple balance always
meant), and every journal entry is tied to it, so the rule "spending takes the lots that
expire first; a release gives back to the lots its reserve took" holds for old data too.

Revision ID: 7b3f9e21c5d4
Revises: 5d7e2c41b913
Create Date: 2026-12-06 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "7b3f9e21c5d4"
down_revision: str | None = "5d7e2c41b913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_points_stock", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("next_event_on", sa.Date(), nullable=True))
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aum", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("slip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier", sa.String(length=16), nullable=True))
    op.create_table(
        "points_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.CheckConstraint("points >= 0", name=op.f("ck_points_lot_points_non_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_points_lot_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lot")),
        sa.UniqueConstraint("customer_id", "ref", name=op.f("uq_points_lot_customer_id")),
    )
    op.create_table(
        "journal_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journal_entry_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_journal_lot_points_positive")),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"],
            ["journal_entry.id"],
            name=op.f("fk_journal_lot_journal_entry_id_journal_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_lot.id"], name=op.f("fk_journal_lot_lot_id_points_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lot")),
    )
    with op.batch_alter_table("journal_lot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_lot_journal_entry_id"), ["journal_entry_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_journal_lot_lot_id"), ["lot_id"], unique=False)
    op.create_table(
        "event_tier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("aum_floor", sa.BigInteger(), nullable=False),
        sa.Column("meaning", sa.String(length=300), nullable=False),
        sa.CheckConstraint("aum_floor >= 0", name=op.f("ck_event_tier_aum_floor_non_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_tier_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_tier")),
        sa.UniqueConstraint("event_id", "code", name=op.f("uq_event_tier_event_id")),
    )
    op.create_table(
        "offer_tier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("tier_code", sa.String(length=16), nullable=False),
        sa.Column("points_price", sa.BigInteger(), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "points_price IS NULL OR points_price > 0",
            name=op.f("ck_offer_tier_points_price_positive"),
        ),
        sa.CheckConstraint(
            "reserved >= 0 AND (quota IS NULL OR reserved <= quota)",
            name=op.f("ck_offer_tier_reserved_within_quota"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offer_tier_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_tier")),
        sa.UniqueConstraint("offer_id", "tier_code", name=op.f("uq_offer_tier_offer_id")),
    )
    # One lot per customer: the balance, no expiry; the journal's entries all drew on it.
    op.execute(
        "INSERT INTO points_lot (customer_id, ref, points, expires_on) "
        "SELECT id, '', points_balance, NULL FROM customer"
    )
    op.execute(
        "INSERT INTO journal_lot (journal_entry_id, lot_id, points) "
        "SELECT j.id, l.id, j.points FROM journal_entry AS j "
        "JOIN points_lot AS l ON l.customer_id = j.customer_id AND l.ref = ''"
    )


def downgrade() -> None:
    op.drop_table("offer_tier")
    op.drop_table("event_tier")
    with op.batch_alter_table("journal_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_lot_lot_id"))
        batch_op.drop_index(batch_op.f("ix_journal_lot_journal_entry_id"))
    op.drop_table("journal_lot")
    op.drop_table("points_lot")
    with op.batch_alter_table("slip", schema=None) as batch_op:
        batch_op.drop_column("tier")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("aum")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("next_event_on")
        batch_op.drop_column("bank_points_stock")
