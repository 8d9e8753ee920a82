"""Themed sessions, contact history, RM invitation codes and credit, arrival windows (#20)

Every invitation a daily report already touched gets one contact in the new history (its last
channel, day and answer as the report left them), so coverage counts it; the fingerprint is
the one ``kiosk.contacts.fingerprint`` computes, so importing the same report again adds
nothing.

Revision ID: 3c8d51a7e2f0
Revises: 7b3f9e21c5d4
Create Date: 2026-12-06 15:45:00.000000
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "3c8d51a7e2f0"
down_revision: str | None = "7b3f9e21c5d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("window_minutes", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.add_column(sa.Column("window_throughput", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("call_points_floor", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_code", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_staff_invite_code"), ["invite_code"])
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employer", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("products", sa.String(length=300), server_default="", nullable=False)
        )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invited_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("window_starts_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invitation_invited_by_staff"), "staff", ["invited_by"], ["id"]
        )
    op.create_table(
        "invitation_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('invite', 'reminder')", name=op.f("ck_invitation_contact_purpose")
        ),
        sa.CheckConstraint(
            "channel IN ('sms', 'phone', 'wechat', 'branch', 'online')",
            name=op.f("ck_invitation_contact_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_invitation_contact_invitation_id_invitation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_invitation_contact_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_invitation_contact_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_contact")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_invitation_contact_fingerprint")),
    )
    with op.batch_alter_table("invitation_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_contact_invitation_id"), ["invitation_id"], unique=False
        )
    op.create_table(
        "event_theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("merchants", sa.Text(), nullable=False),
        sa.Column("offers", sa.Text(), nullable=False),
        sa.Column("points_min", sa.BigInteger(), nullable=True),
        sa.Column("points_max", sa.BigInteger(), nullable=True),
        sa.Column("affordable", sa.Boolean(), nullable=False),
        sa.Column("tiers", sa.String(length=200), nullable=False),
        sa.Column("dormant", sa.Boolean(), nullable=True),
        sa.Column("employers", sa.Text(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_theme_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["time_slot.id"],
            name=op.f("fk_event_theme_slot_id_time_slot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_theme")),
        sa.UniqueConstraint("event_id", "code", name=op.f("uq_event_theme_event_id")),
    )
    _seed_contacts()


def _seed_contacts() -> None:
    """One contact per invitation a report touched, as ``kiosk.contacts`` fingerprints it."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT invitation.id, invitation.channel, invitation.invited_at, invitation.answer, "
            "event.timezone FROM invitation JOIN event ON event.id = invitation.event_id "
            "WHERE invitation.invited_at IS NOT NULL OR invitation.answer IS NOT NULL"
        )
    ).all()
    if not rows:
        return
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    values = []
    for invitation_id, channel, invited_at, answer, zone in rows:
        at = invited_at
        if isinstance(at, str):  # SQLite returns the stored text
            at = datetime.fromisoformat(at)
        if at is None:
            day = now.date()
        else:
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            day = at.astimezone(ZoneInfo(zone or "Asia/Shanghai")).date()
        channel = channel if channel in ("sms", "phone", "wechat", "branch", "online") else "sms"
        text = f"{invitation_id}|invite|{day.isoformat()}|{channel}||{answer or ''}"
        values.append(
            {
                "invitation_id": invitation_id,
                "purpose": "invite",
                "channel": channel,
                "contacted_on": day,
                "answer": answer,
                "source": "0015",
                "recorded_at": now,
                "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
            }
        )
    table = sa.table(
        "invitation_contact",
        sa.column("invitation_id", sa.Integer()),
        sa.column("purpose", sa.String()),
        sa.column("channel", sa.String()),
        sa.column("contacted_on", sa.Date()),
        sa.column("answer", sa.String()),
        sa.column("source", sa.String()),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("fingerprint", sa.String()),
    )
    op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_table("event_theme")
    with op.batch_alter_table("invitation_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_contact_invitation_id"))
    op.drop_table("invitation_contact")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invitation_invited_by_staff"), type_="foreignkey")
        batch_op.drop_column("window_starts_at")
        batch_op.drop_column("invited_by")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("products")
        batch_op.drop_column("employer")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_invite_code"), type_="unique")
        batch_op.drop_column("invite_code")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("call_points_floor")
        batch_op.drop_column("window_throughput")
        batch_op.drop_column("window_minutes")
