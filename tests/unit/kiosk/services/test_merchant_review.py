"""Merchant scorecards, the review flags, the supervisor's decision and the approved-merchant
register carried from one event's database to the next (issue #21, part 3)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from kiosk import audit, register_file, slipcode
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import KioskError, PermissionDenied
from kiosk.i18n import set_language
from kiosk.models import (
    AuditRecord,
    Customer,
    Event,
    FeedbackChannel,
    Merchant,
    MerchantReview,
    Offer,
    Redemption,
    RegisterEntry,
    RegisterSigner,
    ServiceDelivery,
    Slip,
    SlipFeedback,
    SlipStatus,
    Staff,
)
from kiosk.services import imports, keys
from kiosk.services import merchant_review as review
from kiosk.services.auth import staff_session
from tests.unit.kiosk.services.test_imports import write_xlsx

CLOCK = FixedClock(datetime(2026, 12, 20, 2, 0, tzinfo=UTC))
T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # the event day, 10:00 in Shanghai
DAY = timedelta(days=1)


# -- constructed data: what kiosk.services.feedback and the booths would have written --------


class Constructed:
    """Slips, redemptions, deliveries and feedback written straight with the ORM: this module
    only reads them (the services that write them are built elsewhere)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.serial = 900000
        self.seq = 0
        with database.unit_of_work() as uow:
            s = uow.session
            self.event_id = s.scalar(select(Event.id))
            self.customer_id = s.scalar(select(Customer.id).order_by(Customer.id).limit(1))
            self.staff_id = s.scalar(select(Staff.id).where(Staff.staff_no == "A001"))

    def slip(self, merchant: str, status: str = SlipStatus.ISSUED) -> int:
        """A slip of ``merchant``'s first service; its serial."""
        self.serial += 1
        with audit.unaudited(), self.database.unit_of_work() as uow:  # test set-up
            s = uow.session
            merchant_id, offer_id = s.execute(
                select(Merchant.id, Offer.id)
                .join(Offer, Offer.merchant_id == Merchant.id)
                .where(Merchant.code == merchant)
                .order_by(Offer.code)
                .limit(1)
            ).one()
            s.add(
                Slip(
                    event_id=self.event_id,
                    serial=self.serial,
                    customer_id=self.customer_id,
                    merchant_id=merchant_id,
                    offer_id=offer_id,
                    quantity=1,
                    points=1000,
                    redeem_by=date(2027, 3, 1),
                    code=f"TEST{self.serial}",
                    key_id="00000000",
                    status=status,
                    issued_at=T0,
                    issued_by=self.staff_id,
                )
            )
            uow.commit()
        return self.serial

    def redeemed(self, serial: int, at: datetime, conflict: str | None = None) -> None:
        self.seq += 1
        with audit.unaudited(), self.database.unit_of_work() as uow:  # test set-up
            s = uow.session
            merchant_id = s.scalar(select(Slip.merchant_id).where(Slip.serial == serial))
            s.add(
                Redemption(
                    uid=str(uuid.uuid4()),
                    event_id=self.event_id,
                    slip_serial=serial,
                    merchant_id=merchant_id,
                    booth_id="booth-test",
                    booth_seq=self.seq,
                    redeemed_at=at,
                    received_at=at,
                    conflict=conflict,
                )
            )
            uow.commit()

    def delivered(self, serial: int, at: datetime) -> None:
        with audit.unaudited(), self.database.unit_of_work() as uow:  # test set-up
            s = uow.session
            slip_id = s.scalar(select(Slip.id).where(Slip.serial == serial))
            s.add(
                ServiceDelivery(
                    event_id=self.event_id, slip_id=slip_id, delivered_at=at, recorded_at=at
                )
            )
            uow.commit()

    def feedback(
        self,
        serial: int,
        score: int | None,
        category: str | None = None,
        complaint: str = "",
    ) -> None:
        with audit.unaudited(), self.database.unit_of_work() as uow:  # test set-up
            s = uow.session
            slip_id = s.scalar(select(Slip.id).where(Slip.serial == serial))
            s.add(
                SlipFeedback(
                    event_id=self.event_id,
                    slip_id=slip_id,
                    channel=FeedbackChannel.CALL,
                    score=score,
                    category=category,
                    complaint=complaint,
                    said_at=T0 + 3 * DAY,
                    recorded_at=T0 + 3 * DAY,
                    fingerprint=uuid.uuid4().hex,
                )
            )
            uow.commit()


def construct_m01(database: Database) -> None:
    """M01: six slips (one voided, four redeemed, one still open); three delivered after 1, 2
    and 6 days; scores 5, 3, 2, 4; one complaint of each category (one in words only). The
    demo's thresholds are cleared: the tests set their own."""
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        uow.session.execute(
            update(Event).values(
                review_score_floor=None, review_complaints=None, review_delivery_days=None
            )
        )
        uow.commit()
    data = Constructed(database)
    data.slip("M01", SlipStatus.VOIDED)
    redeemed = [data.slip("M01", SlipStatus.REDEEMED) for _ in range(4)]
    data.slip("M01")
    first, second, third, fourth = redeemed
    for serial in redeemed:
        data.redeemed(serial, T0)
    # A second booth's report of the first slip, a day earlier on a wrong clock: a conflict,
    # not the slip's redemption time.
    data.redeemed(first, T0 - DAY, conflict="redeemed_twice")
    data.delivered(first, T0 + DAY)
    data.delivered(second, T0 + 2 * DAY)
    data.delivered(third, T0 + 6 * DAY)
    data.feedback(first, 5)
    data.feedback(second, 3, "quality", "服务比付费客户差")
    data.feedback(third, 2, "refused")
    data.feedback(third, None, None, "电话里又投诉了一次")  # words, no category: "other"
    data.feedback(fourth, 4, "conditions")


def _card(database: Database, code: str) -> review.Scorecard:
    return next(c for c in review.scorecards(database.unit_of_work()) if c.merchant_code == code)


def test_scorecard_figures_against_hand_computed_values(demo_db: Database) -> None:
    construct_m01(demo_db)
    card = _card(demo_db, "M01")
    assert (card.issued, card.redeemed, card.delivered) == (5, 4, 3)
    assert card.median_days == pytest.approx(2.0)  # of 1, 2, 6
    assert card.average_days == pytest.approx(3.0)  # (1 + 2 + 6) / 3
    assert card.complaints == {"refused": 1, "conditions": 1, "quality": 1, "other": 1}
    assert card.complaint_total == 4
    assert card.average_score == pytest.approx(3.5)  # (5 + 3 + 2 + 4) / 4
    assert card.scores == 4
    assert card.flags == ()  # no thresholds set yet
    untouched = _card(demo_db, "M02")
    assert (untouched.issued, untouched.delivered, untouched.scores) == (0, 0, 0)
    assert untouched.median_days is None and untouched.average_score is None
    assert untouched.complaint_total == 0


@pytest.mark.parametrize(
    ("floor", "complaints", "days", "expected"),
    [
        # At each threshold: an average score equal to the floor and days equal to the limit
        # are not flagged; complaints equal to the threshold are.
        (35, 5, 3, []),
        (36, None, None, ["Average score 3.5 is below the floor of 3.6."]),
        (None, 4, None, ["4 complaint(s) reach the threshold of 4."]),
        (None, None, 2, ["Average 3 days to delivery is above the threshold of 2 days."]),
        (
            50,
            1,
            0,
            [
                "Average score 3.5 is below the floor of 5.",
                "4 complaint(s) reach the threshold of 1.",
                "Average 3 days to delivery is above the threshold of 0 days.",
            ],
        ),
    ],
)
def test_flags_at_and_around_each_threshold(
    demo_db: Database,
    floor: int | None,
    complaints: int | None,
    days: int | None,
    expected: list[str],
) -> None:
    construct_m01(demo_db)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    review.set_thresholds(
        demo_db.unit_of_work(),
        s001,
        score_floor=floor,
        complaints=complaints,
        delivery_days=days,
        clock=CLOCK,
    )
    assert list(_card(demo_db, "M01").flags) == expected
    assert _card(demo_db, "M02").flags == ()  # nothing to judge: never flagged


def test_an_average_just_under_the_floor_is_flagged_not_rounded_up() -> None:
    """69 points over 20 scores is 3.45: below a floor of 3.5, though one decimal would say
    3.5; compared on the sums, never on a rounded average."""
    card = review.Scorecard("M09", "x", 20, 20, 0, None, None, {}, 69 / 20, 20, score_sum=69)
    assert review.flags(card, review.Thresholds(35, None, None)) == (
        "Average score 3.45 is below the floor of 3.5.",
    )
    assert review.flags(card, review.Thresholds(34, None, None)) == ()


def test_thresholds_are_a_supervisors_audited(demo_db: Database) -> None:
    a001 = staff_session(demo_db.unit_of_work(), "A001", clock=CLOCK)
    with pytest.raises(PermissionDenied, match="Only a supervisor reviews merchants"):
        review.set_thresholds(demo_db.unit_of_work(), a001, complaints=3, clock=CLOCK)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    with pytest.raises(KioskError, match="from 1 to 5"):
        review.set_thresholds(demo_db.unit_of_work(), s001, score_floor=60, clock=CLOCK)
    review.set_thresholds(
        demo_db.unit_of_work(), s001, score_floor=35, complaints=3, delivery_days=7, clock=CLOCK
    )
    review.set_thresholds(demo_db.unit_of_work(), s001, complaints=None, clock=CLOCK)
    assert review.thresholds(demo_db.unit_of_work()) == review.Thresholds(35, None, 7)
    assert review.score_floor_tenths("3.5") == 35
    with pytest.raises(KioskError):
        review.score_floor_tenths("3.55")
    with demo_db.unit_of_work() as uow:
        records = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "review_thresholds_set")
        ).all()
    assert len(records) == 2
    assert json.loads(records[-1].details)["was"]["complaints"] == 3


def test_decide_is_a_supervisors_with_a_reason_audited_with_the_scorecard(
    demo_db: Database,
) -> None:
    construct_m01(demo_db)
    a001 = staff_session(demo_db.unit_of_work(), "A001", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        review.decide(demo_db.unit_of_work(), "M01", "exit", "投诉多", a001, clock=CLOCK)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    with pytest.raises(KioskError, match="reason"):
        review.decide(demo_db.unit_of_work(), "M01", "exit", "   ", s001, clock=CLOCK)
    with pytest.raises(KioskError, match="not a decision"):
        review.decide(demo_db.unit_of_work(), "M01", "ban", "x", s001, clock=CLOCK)
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(MerchantReview.id))) == 0
    result = review.decide(demo_db.unit_of_work(), "m01", "exit", "拒收兑换券", s001, clock=CLOCK)
    assert result.decision == "exit"
    with demo_db.unit_of_work() as uow:
        (row,) = uow.session.scalars(select(MerchantReview)).all()
        record = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "merchant_decided")
        ).one()
    assert (row.decision, row.reason) == ("exit", "拒收兑换券")
    assert json.loads(row.scorecard)["complaints"]["refused"] == 1
    assert json.loads(row.scorecard)["average_days"] == 3.0
    assert json.loads(record.details)["merchant"] == "M01"
    assert record.staff_id == s001.staff_id
    card = _card(demo_db, "M01")
    assert card.decision is not None and card.decision.decided_by == "S001"


# -- the register between two event databases ---------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def two_events(
    request: pytest.FixtureRequest, demo_template: Path, tmp_path: Path
) -> Iterator[tuple[Database, Database]]:
    """Event 1's database and the next event's, two separate databases on one backend: the
    next one a demo of its own with another event code and its own signing key."""
    if request.param == "sqlite":
        urls = []
        for name in ("event1.sqlite3", "event2.sqlite3"):
            shutil.copyfile(demo_template, tmp_path / name)
            urls.append(f"sqlite:///{tmp_path / name}")
        given_back: list[str] = []
    else:
        from tests.conftest import PG_ADMIN_URL

        clones = request.getfixturevalue("pg_demo_clones")
        given_back = [clones.take(), clones.take()]
        urls = [f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}" for name in given_back]
    first, second = (open_database(url) for url in urls)
    with audit.unaudited(), second.unit_of_work() as uow:  # test set-up: the next event
        uow.session.execute(update(Event).values(code="NEXT27", name="下一届积分兑换日"))
        uow.commit()
    s001 = staff_session(second.unit_of_work(), "S001", clock=CLOCK)
    keys.create_event_key(second.unit_of_work(), DEMO_PASSPHRASE, s001, clock=CLOCK)
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()
        for name in given_back:
            request.getfixturevalue("pg_demo_clones").give_back(name)


def _decided_and_exported(first: Database) -> review.RegisterExport:
    """Event 1 exits M03 and warns M02, then exports its register."""
    s001 = staff_session(first.unit_of_work(), "S001", clock=CLOCK)
    review.decide(first.unit_of_work(), "M03", "warn", "首次投诉", s001, clock=CLOCK)
    review.decide(first.unit_of_work(), "M03", "exit", "多次拒收兑换券", s001, clock=CLOCK)
    review.decide(first.unit_of_work(), "M02", "warn", "交付偏慢", s001, clock=CLOCK)
    return review.export_register(first.unit_of_work(), DEMO_PASSPHRASE, s001, clock=CLOCK)


def _dump(database: Database) -> dict[str, list[Any]]:
    with database.unit_of_work() as uow:
        s = uow.session
        return {
            "entries": sorted(
                (e.merchant_code, e.status, e.history) for e in s.scalars(select(RegisterEntry))
            ),
            "signers": sorted(k.key_id for k in s.scalars(select(RegisterSigner))),
            "offers": sorted((o.code, o.name, o.capacity) for o in s.scalars(select(Offer))),
            "merchants": sorted((m.code, m.name) for m in s.scalars(select(Merchant))),
        }


def test_register_round_trip_refuses_the_exited_merchant_in_the_next_catalog(
    two_events: tuple[Database, Database], tmp_path: Path
) -> None:
    first, second = two_events
    exported = _decided_and_exported(first)
    document = json.loads(exported.data)
    entries = {e["merchant_code"]: e for e in document["body"]["entries"]}
    assert entries["M03"]["status"] == "exit"
    assert entries["M03"]["reason"] == "多次拒收兑换券"
    assert [d["decision"] for d in entries["M03"]["history"][0]["decisions"]] == ["warn", "exit"]
    assert entries["M01"]["status"] == "keep"  # never reviewed
    assert {"code": "O301", "name": "一年期意外险"} in entries["M03"]["services"]
    assert exported.fingerprint == review.register_fingerprint(first.unit_of_work())

    s001 = staff_session(second.unit_of_work(), "S001", clock=CLOCK)
    # Not trusted yet and no fingerprint named: refused, nothing changed.
    before = _dump(second)
    with pytest.raises(KioskError, match="does not trust") as refused:
        review.import_register(second.unit_of_work(), exported.data, s001, clock=CLOCK)
    assert exported.fingerprint in str(refused.value)
    with pytest.raises(KioskError, match="is not the one of the key"):
        review.import_register(
            second.unit_of_work(),
            exported.data,
            s001,
            trust="0000-0000-0000-0000-0000",
            clock=CLOCK,
        )
    assert _dump(second) == before
    result = review.import_register(
        second.unit_of_work(),
        exported.data,
        s001,
        trust=exported.fingerprint.upper().replace("-", " "),
        clock=CLOCK,
    )
    assert (result.event_code, result.trusted_now, result.exits) == ("DEMO", True, ("M03",))
    assert result.new == 10
    # Trusted from now on: the same file again needs no fingerprint, and replaces by code.
    again = review.import_register(second.unit_of_work(), exported.data, s001, clock=CLOCK)
    assert (again.new, again.replaced, again.trusted_now) == (0, 10, False)
    with second.unit_of_work() as uow:
        actions = list(uow.session.scalars(select(AuditRecord.action)))
    assert actions.count("register_signer_trusted") == 1
    assert actions.count("merchant_register_imported") == 2

    # The next event's catalog: M03 is refused with row, column and reason; nothing imported.
    header = [
        "服务编号",
        "商户编号",
        "商户名称",
        "服务名称",
        "服务类别",
        "所需积分",
        "名额",
        "兑换截止日",
    ]
    rows = [
        header,
        ["O201", "M02", "悦途旅行社", "周边一日游", "旅游", 15000, 50, date(2027, 6, 1)],
        ["O301", "M03", "安心保险代理", "一年期意外险", "保险", 3000, 90, date(2027, 6, 1)],
        ["O999", "M99", "安心保险代理", "新险种", "保险", 3000, 10, date(2027, 6, 1)],
    ]
    path = write_xlsx(tmp_path / "catalog.xlsx", rows)
    before = _dump(second)
    with pytest.raises(imports.ImportRefused) as caught:
        imports.import_file(second.unit_of_work(), "catalog", path, s001, clock=CLOCK)
    issues = [(i.row, i.column, i.message) for i in caught.value.check.issues]
    said = "Merchant M03 安心保险代理 exited at DEMO: 多次拒收兑换券"
    assert issues == [(3, "商户编号", said), (4, "商户名称", said)]
    assert _dump(second) == before
    set_language("zh_CN")  # as the coordinator reads it
    check = imports.check_file(second.unit_of_work(), "catalog", path)
    assert check.issues[0].message == "商户 M03 安心保险代理 已于 DEMO 退出：多次拒收兑换券"
    set_language("en")

    # Without M03, the warned M02 is imported with the warning said.
    path = write_xlsx(tmp_path / "catalog2.xlsx", rows[:2])
    done = imports.import_file(second.unit_of_work(), "catalog", path, s001, clock=CLOCK)
    assert done.notes == ("Merchant M02 悦途旅行社 was warned at DEMO: 交付偏慢",)
    assert "was warned at DEMO" in done.summary("catalog2.xlsx")
    with second.unit_of_work() as uow:
        assert uow.session.scalar(select(Offer.capacity).where(Offer.code == "O201")) == 50

    # Event 2's own register carries event 1's history on, and its own scorecard after it.
    s001_first = staff_session(second.unit_of_work(), "S001", clock=CLOCK)
    next_export = review.export_register(
        second.unit_of_work(), DEMO_PASSPHRASE, s001_first, clock=CLOCK
    )
    m03 = next(e for e in next_export.register.entries if e.merchant_code == "M03")
    assert m03.status == "exit"  # not reviewed at NEXT27: the register's word stands
    assert [h["event"] for h in m03.history] == ["DEMO", "NEXT27"]
    assert next_export.fingerprint != exported.fingerprint


def test_register_files_refused_in_one_sentence_nothing_changed(
    two_events: tuple[Database, Database], tmp_path: Path
) -> None:
    first, second = two_events
    exported = _decided_and_exported(first)
    s001 = staff_session(second.unit_of_work(), "S001", clock=CLOCK)
    before = _dump(second)

    # Altered: M03's exit made a keep.
    altered = exported.data.replace("多次拒收兑换券".encode(), "表现良好".encode())
    altered = altered.replace(b'"status": "exit"', b'"status": "keep"')
    assert altered != exported.data
    with pytest.raises(KioskError, match="altered"):
        review.import_register(
            second.unit_of_work(), altered, s001, trust=exported.fingerprint, clock=CLOCK
        )

    # Signed by another key (another bank branch's event) that nobody trusted: its own
    # fingerprint is in the file, so only a coordinator who noted it could name it.
    private = slipcode.new_private_key()
    other = register_file.Register(
        "OTHER",
        "别的分行活动",
        slipcode.key_id(private.public_key()).hex(),
        register_file.public_hex(private),
        CLOCK.now(),
        exported.register.entries,
    )
    forged = register_file.sign_register(other, private)
    with pytest.raises(KioskError, match="does not trust"):
        review.import_register(second.unit_of_work(), forged, s001, clock=CLOCK)
    with pytest.raises(KioskError, match="is not the one of the key"):
        review.import_register(
            second.unit_of_work(), forged, s001, trust=exported.fingerprint, clock=CLOCK
        )

    # Malformed, too large (read no further than a register can be), and event 1's file
    # imported back into event 1.
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (register_file.MAX_BYTES + 1000))
    assert len(register_file.read_file(big)) == register_file.MAX_BYTES + 1
    for data, words in [
        (b"not json at all", "not an approved-merchant register"),
        (b'{"format": "kiosk-merchant-register", "version": 1, "body": {}}', "damaged"),
        (register_file.read_file(big), "larger than"),
    ]:
        with pytest.raises(KioskError, match=words):
            review.import_register(second.unit_of_work(), data, s001, clock=CLOCK)
    assert _dump(second) == before
    s001_first = staff_session(first.unit_of_work(), "S001", clock=CLOCK)
    with pytest.raises(KioskError, match="exported by this event"):
        review.import_register(
            first.unit_of_work(), exported.data, s001_first, trust=exported.fingerprint, clock=CLOCK
        )
    # A non-supervisor is refused before the file is read.
    a001 = staff_session(second.unit_of_work(), "A001", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        review.import_register(second.unit_of_work(), exported.data, a001, clock=CLOCK)
    assert _dump(second) == before


def test_export_needs_the_passphrase_and_writes_nothing_without_it(demo_db: Database) -> None:
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    with pytest.raises(KioskError):
        review.export_register(demo_db.unit_of_work(), "wrong", s001, clock=CLOCK)
    with demo_db.unit_of_work() as uow:
        actions = list(uow.session.scalars(select(AuditRecord.action)))
    assert "merchant_register_exported" not in actions


def test_an_import_keeps_the_history_only_this_database_had() -> None:
    held = [{"event": "E1", "decisions": []}, {"event": "E2", "decisions": ["old"]}]
    brought = [{"event": "E2", "decisions": ["new"]}, {"event": "E3", "decisions": []}]
    assert review._merged_history(held, brought) == [
        {"event": "E1", "decisions": []},
        {"event": "E2", "decisions": ["new"]},
        {"event": "E3", "decisions": []},
    ]
