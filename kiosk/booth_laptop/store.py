"""The booth's own database: a small SQLite file, independent of the event database.

Its schema is created with ``create_all`` and versioned by a number in ``booth_setting``
rather than by Alembic migrations: the booth file lives for one event, and a booth opened by
an older kiosk than the one that created it is refused in a sentence. The engine comes from
``kiosk.db.create_db_engine``, so it has the event-day settings (WAL, ``synchronous=FULL``,
``BEGIN IMMEDIATE``): a redemption acknowledged on screen survives a power cut, and two
processes on one booth file queue rather than both taking the next sequence number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

import platformdirs
from sqlalchemy import (
    BigInteger,
    Date,
    Engine,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    exc,
    inspect,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from kiosk import storage
from kiosk.db import APP_NAME, create_db_engine
from kiosk.errors import DatabaseError
from kiosk.i18n import _
from kiosk.models import NAMING, UTCDateTime
from kiosk.uow import UnitOfWork

SCHEMA_VERSION = 1
ENV_BOOTH_DB = "KIOSK_BOOTH_DB"


class BoothBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class BoothSetting(BoothBase):
    """Key/value: ``schema_version``, ``booth_id`` (random, made once)."""

    __tablename__ = "booth_setting"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BoothPack(BoothBase):
    """Every pack installed, newest last: the last row is what the booth works with."""

    __tablename__ = "booth_pack"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_code: Mapped[str] = mapped_column(String(16))
    event_name: Mapped[str] = mapped_column(String(200))
    event_tag: Mapped[str] = mapped_column(String(8))  # hex of the slip code's event tag
    event_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[int]  # the merchant's number in slip codes
    merchant_code: Mapped[str] = mapped_column(String(16))
    merchant_name: Mapped[str] = mapped_column(String(100))
    bundle_secret: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]  # the event's clock when the pack was made
    installed_at: Mapped[datetime]  # the booth's clock when it was installed
    signed_by: Mapped[str] = mapped_column(String(8))


class BoothOffer(BoothBase):
    __tablename__ = "booth_offer"

    id: Mapped[int] = mapped_column(primary_key=True)  # the offer's number in slip codes
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    points_price: Mapped[int] = mapped_column(BigInteger)
    redeem_by: Mapped[date] = mapped_column(Date)


class BoothMerchant(BoothBase):
    """Every merchant of the event and its booth, from the newest pack that lists them: to
    send a customer with another merchant's slip to the right booth. (A table added after
    the first booths: ``create_all`` adds it to an existing file, empty until a new pack.)"""

    __tablename__ = "booth_merchant"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # as in slip codes
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    booth: Mapped[str] = mapped_column(String(16), default="")


class BoothKey(BoothBase):
    """A public key the booth trusts; the first pack's, plus those later packs add."""

    __tablename__ = "booth_key"

    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))


class BoothRevocation(BoothBase):
    __tablename__ = "booth_revocation"

    serial: Mapped[int] = mapped_column(primary_key=True)


class BoothRedemption(BoothBase):
    """One slip served here. ``slip_serial`` is unique: the database itself refuses a second
    redemption of a slip, whatever the screen did."""

    __tablename__ = "booth_redemption"
    # Covers the day's totals per offer, so they are summed from the index alone.
    __table_args__ = (
        Index("ix_booth_redemption_day", "redeemed_at", "offer_id", "quantity", "points"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 1, 2, 3, ...
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    slip_serial: Mapped[int] = mapped_column(unique=True)
    offer_id: Mapped[int]
    offer_code: Mapped[str] = mapped_column(String(16))
    offer_name: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    points: Mapped[int] = mapped_column(BigInteger)
    masked_name: Mapped[str] = mapped_column(String(64))
    redeemed_at: Mapped[datetime]  # the booth's clock
    staff_name: Mapped[str] = mapped_column(String(64), default="")


class BoothDelivery(BoothBase):
    """When a slip redeemed here had its service delivered (issue #21), the booth's clock:
    one row per slip, the latest report wins (the event side audits a change). A table
    added after the first booths: ``create_all`` adds it to an existing file."""

    __tablename__ = "booth_delivery"

    slip_serial: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    delivered_at: Mapped[datetime]
    staff_name: Mapped[str] = mapped_column(String(64), default="")


class BoothComplaint(BoothBase):
    """A complaint the booth staff typed for a slip redeemed here (issue #21); ``uid`` makes
    the event side record it once however often the bundle travels."""

    __tablename__ = "booth_complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    slip_serial: Mapped[int] = mapped_column(index=True)
    category: Mapped[str] = mapped_column(String(16))
    complaint: Mapped[str] = mapped_column(Text)
    said_at: Mapped[datetime]
    staff_name: Mapped[str] = mapped_column(String(64), default="")


class BoothOutbox(BoothBase):
    """What the event database has not confirmed yet; written with its redemption."""

    __tablename__ = "booth_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_seq: Mapped[int] = mapped_column(ForeignKey("booth_redemption.seq"), unique=True)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)


def default_booth_path() -> Path:
    import os

    env = os.environ.get(ENV_BOOTH_DB, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "booth.sqlite3"


@dataclass
class BoothDatabase:
    path: Path
    engine: Engine
    session_factory: sessionmaker[Session]
    booth_id: str

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def dispose(self) -> None:
        self.engine.dispose()


def open_booth_database(path: str | Path) -> BoothDatabase:
    """Open (creating if need be) the booth file; ``DatabaseError`` with a sentence if not."""
    path = Path(path).expanduser()
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
        if "event" in tables or "alembic_version" in tables:
            raise DatabaseError(
                _("{path} is an event database, not a booth database.").format(path=path)
            )
        BoothBase.metadata.create_all(engine)
        factory = sessionmaker(engine, expire_on_commit=False)
        with UnitOfWork(factory) as uow:
            settings = {row.key: row.value for row in uow.session.scalars(select(BoothSetting))}
            version = int(settings.get("schema_version", SCHEMA_VERSION))
            if version > SCHEMA_VERSION:
                raise DatabaseError(
                    _(
                        "The booth database {path} was created by a newer version of kiosk; "
                        "update kiosk on this machine."
                    ).format(path=path)
                )
            booth_id = settings.get("booth_id")
            if booth_id is None:
                booth_id = uuid.uuid4().hex
                uow.session.add(BoothSetting(key="booth_id", value=booth_id))
                uow.session.add(BoothSetting(key="schema_version", value=str(SCHEMA_VERSION)))
                uow.commit()
    except DatabaseError:
        engine.dispose()
        raise
    except (exc.OperationalError, exc.DatabaseError) as error:
        engine.dispose()
        place = storage.place_of(path)
        cause = storage.cause_of(error, place)
        if cause is not None:  # a full or read-only disk, in words
            raise DatabaseError(
                _("The database {path} cannot be opened. {what}").format(
                    path=path, what=storage.what_to_do(cause, place)
                )
            ) from None
        reason = str(getattr(error, "orig", error))
        raise DatabaseError(
            _("Cannot open the booth database {path}: {reason}.").format(path=path, reason=reason)
        ) from None
    return BoothDatabase(path, engine, factory, booth_id)
