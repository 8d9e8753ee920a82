"""The demo event: a realistic redemption day, generated deterministically from a seed.

15 branches split over a morning and an afternoon slot, about 240 invitees with their
relationship managers, desk staff with a known PIN, ten merchants selling services, and the
gaps a real customer list has: expired ID documents, missing occupation or tax residency,
invalid phones, no mobile banking, dormant customers. Surnames follow their real frequency
and the polyphonic ones (单, 曾, 解, 区, 仇, 查) always appear, because reception search must
cope with them. The same seed and date always give the same event, so tests and rehearsals
can rely on it; ``invitees`` scales it up for benchmarks.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from kiosk import audit, contacts, invite_codes, privacy
from kiosk.governance import add_years, age_on, validity_years
from kiosk.idcard import check_digit
from kiosk.invitations import new_code
from kiosk.kyc import OCCUPATIONS
from kiosk.models import (
    Base,
    Branch,
    ChangeCounter,
    ContactChannel,
    ContactPurpose,
    Customer,
    DatabaseAccess,
    Event,
    EventTier,
    Invitation,
    InvitationAnswer,
    InvitationStatus,
    Merchant,
    MobileBanking,
    Offer,
    OfferTier,
    PointsLot,
    Preselection,
    Role,
    SearchKey,
    ServiceCategory,
    Staff,
    TimeSlot,
)
from kiosk.pinyin import initials_key
from kiosk.search_keys import customer_keys
from kiosk.security import hash_pin
from kiosk.services.keys import new_key_row
from kiosk.uow import UnitOfWork

DEMO_PIN = "1234"
DEMO_PASSPHRASE = "demo-passphrase"  # unlocks the demo event's signing and privacy keys
DEMO_SEED = 20261123
DEMO_EVENT_CODE = "DEMO"
TIMEZONE = "Asia/Shanghai"

BRANCHES = [
    ("B01", "天河支行"),
    ("B02", "越秀支行"),
    ("B03", "海珠支行"),
    ("B04", "荔湾支行"),
    ("B05", "白云支行"),
    ("B06", "番禺支行"),
    ("B07", "黄埔支行"),
    ("B08", "花都支行"),
    ("B09", "南沙支行"),
    ("B10", "从化支行"),
    ("B11", "增城支行"),
    ("B12", "体育西支行"),
    ("B13", "珠江新城支行"),
    ("B14", "东山支行"),
    ("B15", "琶洲支行"),
]

# Surnames with their approximate share of the population (per mille), 2020 census order.
SURNAMES: list[tuple[str, float]] = [
    ("王", 73),
    ("李", 72),
    ("张", 69),
    ("刘", 54),
    ("陈", 46),
    ("杨", 32),
    ("黄", 24),
    ("赵", 22),
    ("吴", 21),
    ("周", 21),
    ("徐", 17),
    ("孙", 15),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("林", 11),
    ("高", 11),
    ("罗", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 8),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("邓", 7),
    ("冯", 7),
    ("曹", 6),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 5),
    ("董", 5),
    ("潘", 5),
    ("袁", 5),
    ("蔡", 5),
    ("蒋", 5),
    ("余", 5),
    ("于", 5),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("魏", 4),
    ("苏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("卢", 3),
    ("姚", 3),
    ("沈", 3),
    ("钟", 3),
    ("姜", 3),
    ("崔", 3),
    ("谭", 3),
    ("陆", 3),
    ("范", 3),
    ("汪", 3),
    ("廖", 3),
    ("石", 3),
    ("金", 3),
    ("韦", 3),
    ("贾", 3),
    ("夏", 2),
    ("付", 2),
    ("方", 2),
    ("邹", 2),
    ("熊", 2),
    ("白", 2),
    ("孟", 2),
    ("秦", 2),
    ("邱", 2),
    ("侯", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("龙", 2),
    ("黎", 2),
    ("史", 2),
    ("陶", 2),
    ("贺", 2),
    ("毛", 2),
    ("郝", 2),
    ("顾", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 1),
    ("覃", 1),
    ("武", 1),
    ("钱", 1),
    ("戴", 1),
    ("严", 1),
    ("莫", 1),
    ("孔", 1),
    ("向", 1),
    ("常", 1),
    ("汤", 1),
    ("单", 0.3),
    ("解", 0.3),
    ("区", 0.2),
    ("仇", 0.2),
    ("查", 0.2),
    ("欧阳", 0.3),
]
POLYPHONIC_SURNAMES = ["单", "曾", "解", "区", "仇", "查"]
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志红梅海燕春林文"
    "德福永兴佳怡欣宇浩然子轩梓涵一诺思雨嘉琪婷雪莉凤琴云飞鹏辉斌波宁晶瑶"
)
DISTRICTS = [
    ("440106", "天河区"),
    ("440104", "越秀区"),
    ("440105", "海珠区"),
    ("440103", "荔湾区"),
    ("440111", "白云区"),
    ("440113", "番禺区"),
    ("440112", "黄埔区"),
    ("440114", "花都区"),
    ("440115", "南沙区"),
    ("440117", "从化区"),
    ("440118", "增城区"),
]
STREETS = [
    "中山大道",
    "天河路",
    "环市东路",
    "江南大道",
    "工业大道",
    "解放北路",
    "黄埔大道",
    "广州大道",
    "东风中路",
    "新港西路",
    "人民北路",
    "珠江东路",
]

# Merchant code, name, booth, offers (code, name, category, points price, capacity, days valid).
MERCHANTS: list[tuple[str, str, str, list[tuple[str, str, ServiceCategory, int, int, int]]]] = [
    (
        "M01",
        "康宁体检中心",
        "A1",
        [
            ("O101", "基础体检套餐", ServiceCategory.HEALTH, 12000, 40, 180),
            ("O102", "深度体检套餐", ServiceCategory.HEALTH, 30000, 15, 180),
        ],
    ),
    (
        "M02",
        "悦途旅行社",
        "A2",
        [
            ("O201", "周边一日游", ServiceCategory.TRAVEL, 15000, 40, 120),
            ("O202", "温泉两日游", ServiceCategory.TRAVEL, 45000, 10, 120),
        ],
    ),
    (
        "M03",
        "安心保险代理",
        "A3",
        [
            ("O301", "一年期意外险", ServiceCategory.INSURANCE, 3000, 80, 60),
        ],
    ),
    (
        "M04",
        "洁亮汽车美容",
        "A4",
        [
            ("O401", "精致洗车一次", ServiceCategory.CAR, 1500, 120, 90),
            ("O402", "打蜡养护套餐", ServiceCategory.CAR, 5000, 40, 90),
        ],
    ),
    (
        "M05",
        "星光影城",
        "B1",
        [
            ("O501", "电影票两张", ServiceCategory.MOVIE, 2000, 200, 90),
        ],
    ),
    (
        "M06",
        "海悦自助餐厅",
        "B2",
        [
            ("O601", "自助午餐一位", ServiceCategory.DINING, 4000, 80, 60),
            ("O602", "双人自助晚餐", ServiceCategory.DINING, 9000, 30, 60),
        ],
    ),
    (
        "M07",
        "童趣亲子乐园",
        "B3",
        [
            ("O701", "亲子手工课", ServiceCategory.FAMILY, 3500, 50, 90),
            ("O702", "亲子乐园家庭票", ServiceCategory.FAMILY, 6000, 40, 90),
        ],
    ),
    (
        "M08",
        "果香采摘园",
        "B4",
        [
            ("O801", "草莓采摘体验", ServiceCategory.LEISURE, 2500, 60, 45),
        ],
    ),
    (
        "M09",
        "静心茶艺馆",
        "B5",
        [
            ("O901", "茶艺体验课", ServiceCategory.LEISURE, 3000, 40, 90),
        ],
    ),
    (
        "M10",
        "康养理疗馆",
        "B6",
        [
            ("O1001", "肩颈理疗一次", ServiceCategory.HEALTH, 5000, 60, 90),
        ],
    ),
]
# What the bank pays each merchant (kiosk.money): yuan per point in millionths (0.01 yuan =
# 10000) for most, a little less for the big health packages; the cinema is paid a fixed
# price per pair of tickets instead (Offer.price_fen, which overrides the rate).
MERCHANT_RATES = {code: 10_000 for code, _name, _booth, _offers in MERCHANTS} | {
    "M01": 8_000,
    "M03": 12_500,
}
OFFER_PRICES = {"O501": 3_500}  # ¥35.00 per pair of tickets
TIERS = [
    ("standard", 0.40, 2_000, 20_000),
    ("gold", 0.35, 10_000, 60_000),
    ("platinum", 0.20, 30_000, 150_000),
    ("diamond", 0.05, 80_000, 400_000),
]
# The event's bands by assets under management (yuan), as the bank's points strategy has them.
EVENT_TIERS = [
    ("GOLD", "金卡", 50_000, "金卡客户（资产5万元起）：按标价兑换，部分服务设金卡专属名额。"),
    ("PLATINUM", "白金", 500_000, "白金客户（资产50万元起）：部分服务享白金专属积分价。"),
    ("DIAMOND", "钻石", 3_000_000, "钻石客户（资产300万元起）：部分服务享更低的积分价和专属名额。"),
    ("PRIVATE", "私行", 6_000_000, "私行客户（资产600万元起）：部分服务享最低积分价和专属名额。"),
]
# A customer's AUM (yuan, a range in 万) that fits their tier label: the label and the band agree.
AUM_FOR_LABEL = {
    "standard": (1, 4),
    "gold": (5, 49),
    "platinum": (50, 299),
    "diamond": (300, 599),
}
# Offer code -> tier code -> (tier price, tier quota); the tests' usual offers keep one price.
OFFER_TIERS: dict[str, dict[str, tuple[int | None, int | None]]] = {
    "O602": {"PLATINUM": (8_000, None), "DIAMOND": (7_000, None), "PRIVATE": (6_000, None)},
    "O702": {"DIAMOND": (5_000, 10), "PRIVATE": (4_500, 5)},
    "O901": {"GOLD": (None, 20), "PLATINUM": (2_500, None)},
}


@dataclass(frozen=True)
class DemoSummary:
    event_code: str
    event_date: date
    branches: int
    invitees: int
    staff: int
    merchants: int
    offers: int


class _Names:
    """Weighted Chinese names; guarantees each polyphonic surname at least once."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = [s for s, _ in SURNAMES]
        self.weights = [w for _, w in SURNAMES]

    def given(self) -> str:
        n = 1 if self.rng.random() < 0.3 else 2
        return "".join(self.rng.choice(GIVEN_CHARS) for _ in range(n))

    def full(self, surname: str | None = None) -> str:
        surname = surname or self.rng.choices(self.surnames, self.weights)[0]
        return surname + self.given()


def _resident_id(rng: random.Random, birth: date, male: bool) -> tuple[str, str]:
    region, district = rng.choice(DISTRICTS)
    seq = rng.randrange(0, 50) * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(0, 10)}{seq:02d}"
    return first17 + check_digit(first17), district


def _validity(
    rng: random.Random, birth: date, event_day: date, expired: bool
) -> tuple[date, date | None, bool]:
    """ID validity period by exact age at issue (5/10/20 years, long-term from 46)."""
    for _attempt in range(200):
        if expired:  # expired between a week and three years ago
            valid_to = event_day - timedelta(days=rng.randrange(7, 3 * 365))
            length = rng.choice([10, 20])
            issued = add_years(valid_to, -length)
            if validity_years(age_on(birth, issued)) == length and issued > birth:
                return issued, valid_to, False
            continue
        issued = event_day - timedelta(days=rng.randrange(30, 19 * 365))
        if issued <= birth:
            continue
        years = validity_years(age_on(birth, issued))
        if years is None:
            return issued, None, True
        valid_to = add_years(issued, years)
        if valid_to > event_day + timedelta(days=30):
            return issued, valid_to, False
    # Some ages admit no recently expired ID (a 44-year-old's 10- and 20-year IDs cannot
    # both fit); give them a current one, issued a year ago, consistent with the law.
    issued = event_day - timedelta(days=365)
    years = validity_years(age_on(birth, issued))
    return issued, None if years is None else add_years(issued, years), years is None


def _phone(rng: random.Random, invalid: bool) -> str:
    if invalid:
        return rng.choice(
            [
                "1" + "".join(rng.choices(string.digits, k=9)),  # one digit short
                "12" + "".join(rng.choices(string.digits, k=9)),  # no such prefix
                "020" + "".join(rng.choices(string.digits, k=8)),  # a landline
            ]
        )
    prefix = rng.choice(
        [
            "138",
            "139",
            "135",
            "136",
            "137",
            "150",
            "151",
            "158",
            "159",
            "186",
            "188",
            "189",
            "133",
            "177",
            "199",
        ]
    )
    return prefix + "".join(rng.choices(string.digits, k=8))


def reset_database(session: Session) -> None:
    """Delete every row of every table (children first), keeping the schema, the change
    counter, whose one row stations on other laptops keep reading, and the station role the
    database was set up with (``kiosk.dbroles``)."""
    kept = {ChangeCounter.__tablename__, DatabaseAccess.__tablename__}
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in kept:
            session.execute(delete(table))


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


def create_demo(uow: UnitOfWork, **options: Any) -> DemoSummary:
    """Generate the demo event in its own transaction (see ``generate_demo``)."""
    with uow:
        summary = generate_demo(uow.session, **options)
        uow.commit()
        return summary


def generate_demo(
    session: Session,
    *,
    seed: int = DEMO_SEED,
    event_date: date | None = None,
    invitees: int = 240,
    pin: str = DEMO_PIN,
) -> DemoSummary:
    """Replace the database's content with the demo event; the caller commits."""
    rng = random.Random(seed)
    names = _Names(rng)
    event_day = event_date or datetime.now(ZoneInfo(TIMEZONE)).date()
    now = datetime.now(UTC)
    reset_database(session)

    event = Event(
        code=DEMO_EVENT_CODE,
        name="尊享积分集中兑换日（演示）",
        venue="广州国际会议中心 3号厅",
        event_date=event_day,
        timezone=TIMEZONE,
        is_demo=True,
        # The merchant review's thresholds, so the simulated day's scorecard flags someone.
        review_score_floor=35,
        review_complaints=4,
        review_delivery_days=3,
        created_at=now,
    )
    session.add(event)
    session.flush()

    branches = [Branch(code=code, name=name) for code, name in BRANCHES]
    session.add_all(branches)
    session.flush()

    staff: list[Staff] = []

    def add_staff(staff_no: str, name: str, roles: list[Role], branch: Branch | None) -> Staff:
        member = Staff(
            staff_no=staff_no,
            name=name,
            roles=" ".join(roles),
            branch_id=branch.id if branch else None,
            pin_hash=hash_pin(pin),
        )
        staff.append(member)
        return member

    add_staff("S001", names.full(), [Role.SUPERVISOR], None)
    add_staff("S002", names.full(), [Role.SUPERVISOR], None)
    for i in range(1, 4):
        add_staff(f"R{i:03d}", names.full(), [Role.RECEPTION], None)
    for i in range(1, 4):
        add_staff(f"A{i:03d}", names.full(), [Role.ACTIVATION], None)
    rms: dict[int, list[Staff]] = {}
    for index, branch in enumerate(branches):
        rms[branch.id] = [
            add_staff(f"RM{index * 2 + k + 1:03d}", names.full(), [Role.RM], branch)
            for k in range(2)
        ]

    merchants: list[Merchant] = []
    offers: list[Offer] = []
    for m_index, (m_code, m_name, booth, m_offers) in enumerate(MERCHANTS, start=1):
        merchant = Merchant(
            event_id=event.id,
            code=m_code,
            name=m_name,
            booth=booth,
            rate_micro=MERCHANT_RATES.get(m_code),
        )
        session.add(merchant)
        session.flush()
        merchants.append(merchant)
        add_staff(f"M{m_index:03d}", names.full(), [Role.MERCHANT], None)
        for code, name, category, price, capacity, days in m_offers:
            offer = Offer(
                event_id=event.id,
                merchant_id=merchant.id,
                code=code,
                name=name,
                category=category,
                points_price=price,
                capacity=capacity,
                redeem_by=event_day + timedelta(days=days),
                price_fen=OFFER_PRICES.get(code),
            )
            offers.append(offer)
    session.add_all(staff)
    session.add_all(offers)
    session.flush()

    # Invitees per branch: roughly even, some branches bigger, summing to ``invitees``.
    weights = [rng.uniform(0.6, 1.4) for _ in branches]
    per_branch = [int(invitees * w / sum(weights)) for w in weights]
    for i in range(invitees - sum(per_branch)):
        per_branch[i % len(per_branch)] += 1
    # The first branches go to the morning until it holds about half of the invitees.
    morning_branches = next(
        k for k in range(1, len(branches) + 1) if sum(per_branch[:k]) * 2 >= invitees
    )
    morning_total = sum(per_branch[:morning_branches])
    afternoon_total = invitees - morning_total

    morning = TimeSlot(
        event_id=event.id,
        code="AM",
        label="上午场",
        starts_at=_local(event_day, time(9, 0)),
        ends_at=_local(event_day, time(11, 30)),
        capacity=max(10, round(morning_total * 1.1)),
    )
    afternoon = TimeSlot(
        event_id=event.id,
        code="PM",
        label="下午场",
        starts_at=_local(event_day, time(13, 30)),
        ends_at=_local(event_day, time(16, 30)),
        capacity=max(10, round(afternoon_total * 1.1)),
    )
    session.add_all([morning, afternoon])
    session.flush()

    balance_as_of = _local(event_day - timedelta(days=1), time(20, 0))
    # Personal data sealed to the privacy key, locked with the documented demo passphrase.
    privacy_key = privacy.new_key_row(event.id, DEMO_PASSPHRASE, now)
    session.add(privacy_key)
    sealer = privacy.Sealer(bytes.fromhex(privacy_key.public_key))
    occupation_codes = list(OCCUPATIONS)
    customers: list[dict[str, object]] = []
    invitation_rows: list[dict[str, object]] = []
    polyphonic = set(rng.sample(range(invitees), k=min(len(POLYPHONIC_SURNAMES), invitees)))
    polyphonic_order = iter(POLYPHONIC_SURNAMES)
    codes: set[str] = set()
    initials_cache: dict[str, str] = {}
    serial = 0
    for b_index, (branch, count) in enumerate(zip(branches, per_branch, strict=True)):
        slot = morning if b_index < morning_branches else afternoon
        for _ in range(count):
            serial += 1
            surname = next(polyphonic_order) if serial - 1 in polyphonic else None
            name = names.full(surname)
            male = rng.random() < 0.48
            age = rng.choices(
                [rng.randint(30, 44), rng.randint(45, 59), rng.randint(60, 82)], [0.25, 0.4, 0.35]
            )[0]
            birth = date(event_day.year - age, rng.randint(1, 12), rng.randint(1, 28))
            id_number, district = _resident_id(rng, birth, male)
            valid_from, valid_to, long_term = _validity(
                rng, birth, event_day, expired=rng.random() < 0.15
            )
            tier, _, low, high = rng.choices(TIERS, [t[1] for t in TIERS])[0]
            dormant = rng.random() < 0.15
            last_activity = event_day - timedelta(
                days=rng.randint(400, 1500) if dormant else rng.randint(1, 300)
            )
            phone = _phone(rng, invalid=rng.random() < 0.05)
            mobile = rng.choices(
                [MobileBanking.NONE, MobileBanking.OPENED, MobileBanking.ACTIVE],
                [0.25, 0.2, 0.55],
            )[0]
            rm = rng.choice(rms[branch.id])
            if name not in initials_cache:
                initials_cache[name] = initials_key(name)
            customers.append(
                {
                    "customer_no": f"62{serial:08d}",
                    "name": name,
                    "name_initials": initials_cache[name],
                    "gender": "M" if male else "F",
                    "nationality": "CHN",
                    "occupation_code": None
                    if rng.random() < 0.10
                    else rng.choice(occupation_codes),
                    **privacy.columns(
                        sealer,
                        "address",
                        None
                        if rng.random() < 0.05
                        else f"广州市{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                    ),
                    **privacy.columns(sealer, "phone", phone),
                    "id_type": "resident_id",
                    **privacy.columns(sealer, "id_number", id_number),
                    "id_valid_from": valid_from,
                    "id_valid_to": valid_to,
                    "id_long_term": long_term,
                    "tax_residency": None if rng.random() < 0.08 else "CN",
                    "tier": tier,
                    "aum": None,  # set below from its own random stream
                    "points_balance": rng.randrange(low, high, 100),
                    "balance_as_of": balance_as_of,
                    "branch_id": branch.id,
                    "rm_id": rm.id,
                    "mobile_banking": mobile,
                    "last_activity_on": last_activity,
                    "dormant": dormant,
                }
            )
            status = rng.choices(
                [InvitationStatus.CONFIRMED, InvitationStatus.INVITED, InvitationStatus.DECLINED],
                [0.75, 0.20, 0.05],
            )[0]
            invited_at = _local(event_day - timedelta(days=rng.randint(7, 21)), time(10, 0))
            invitation_rows.append(
                {
                    "event_id": event.id,
                    "slot_id": slot.id,
                    "rm_id": rm.id,
                    "code": new_code(DEMO_EVENT_CODE, rng, codes),
                    "channel": rng.choices(["sms", "phone", "wechat"], [0.5, 0.35, 0.15])[0],
                    "status": status,
                    "companions": rng.choices([0, 1, 2], [0.6, 0.3, 0.1])[0],
                    "invited_at": invited_at,
                    "confirmed_at": invited_at + timedelta(days=rng.randint(1, 5))
                    if status == InvitationStatus.CONFIRMED
                    else None,
                }
            )

    _aum_for_labels(customers, random.Random(f"{seed}-aum"))
    customer_ids = session.scalars(
        insert(Customer)
        .returning(Customer.id, sort_by_parameter_order=True)
        # Keep NULL keys, so every row has the same columns and goes in one batch;
        # otherwise rows are split per key set and the build grows quadratically.
        .execution_options(render_nulls=True),
        customers,
    ).all()
    for row, customer_id in zip(invitation_rows, customer_ids, strict=True):
        row["customer_id"] = customer_id
    invitation_ids = session.scalars(
        insert(Invitation)
        .returning(Invitation.id, sort_by_parameter_order=True)
        .execution_options(render_nulls=True),
        invitation_rows,
    ).all()

    key_rows = [
        {"key": key, "customer_id": customer_id}
        for customer, row, customer_id in zip(customers, invitation_rows, customer_ids, strict=True)
        for key in customer_keys(
            str(customer["name"]),
            str(customer["phone_masked"]),  # the mask keeps the last four digits
            str(customer["customer_no"]),
            [str(row["code"])],
        )
    ]
    session.execute(insert(SearchKey), key_rows)

    _add_tiers(session, event.id, offers)
    _add_lots(session, customers, customer_ids, event_day, random.Random(f"{seed}-lots"))
    _add_before_the_day(
        session,
        event,
        staff,
        invitation_rows,
        invitation_ids,
        customer_ids,
        now,
        random.Random(f"{seed}-before"),
    )

    preselections = []
    for row, customer, invitation_id in zip(
        invitation_rows, customers, invitation_ids, strict=True
    ):
        if row["status"] != InvitationStatus.CONFIRMED or rng.random() >= 0.3:
            continue
        affordable = [o for o in offers if o.points_price <= int(customer["points_balance"])]
        if affordable:
            offer = rng.choice(affordable)
            preselections.append(
                {"invitation_id": invitation_id, "offer_id": offer.id, "quantity": 1}
            )
    if preselections:
        session.execute(insert(Preselection), preselections)

    # The slip-signing key, locked with the documented demo passphrase.
    session.add(new_key_row(event.id, DEMO_PASSPHRASE, now))
    audit.append(
        session,
        at=now,
        action="demo_generated",
        entity="event",
        entity_id=event.id,
        details={"seed": seed, "invitees": invitees},
    )
    session.flush()
    return DemoSummary(
        event_code=event.code,
        event_date=event_day,
        branches=len(branches),
        invitees=invitees,
        staff=len(staff),
        merchants=len(merchants),
        offers=len(offers),
    )


PAYROLL_EMPLOYERS = ("广州地铁集团有限公司", "广州白云国际机场股份有限公司", "广汽集团")
PRODUCTS = ("理财", "基金", "外汇", "保险", "贵金属", "大额存单", "信用卡")


def _add_before_the_day(
    session: Session,
    event: Event,
    staff: list[Staff],
    invitation_rows: list[dict[str, object]],
    invitation_ids: Sequence[int],
    customer_ids: Sequence[int],
    now: datetime,
    rng: random.Random,
) -> None:
    """What the weeks before the day left (issue #20), so the progress and RM reports have
    something to show: each RM's personal code, the contact history the daily reports built
    (an SMS or a call, then a call with the answer; a few confirmations made by another
    branch's RM, who is credited), and employers and products for a themed session's
    audience. The coordinator's own steps are left to try: the call rule (Figures tab), the
    arrival windows (throughput, plan) and the reminders sent. From a stream of its own, like
    the lots: nothing else changes."""
    invite_codes.assign(session, rng)
    zone = ZoneInfo(event.timezone)
    rm_ids = [m.id for m in staff if Role.RM in m.roles.split()]
    found: list[contacts.Contact] = []
    updates = []
    for row, invitation_id in zip(invitation_rows, invitation_ids, strict=True):
        own = int(row["rm_id"])  # type: ignore[call-overload]
        status = row["status"]
        invited_at: datetime = row["invited_at"]  # type: ignore[assignment]
        first_day = invited_at.astimezone(zone).date()
        channel = ContactChannel(str(row["channel"]))
        answer = {
            InvitationStatus.CONFIRMED: InvitationAnswer.CONFIRMED,
            InvitationStatus.DECLINED: InvitationAnswer.DECLINED,
        }.get(status)  # type: ignore[call-overload]
        if answer is None and rng.random() < 0.4:
            answer = InvitationAnswer.UNREACHABLE
        by = rng.choice([r for r in rm_ids if r != own]) if rng.random() < 0.06 else own
        if channel == ContactChannel.SMS:
            # The SMS goes out first; a call a few days later brings the answer.
            found.append(
                contacts.Contact(
                    invitation_id, ContactPurpose.INVITE, channel, first_day, own, None
                )
            )
            if answer is not None:
                answered_on = first_day + timedelta(days=rng.randint(1, 4))
                found.append(
                    contacts.Contact(
                        invitation_id,
                        ContactPurpose.INVITE,
                        ContactChannel.PHONE,
                        answered_on,
                        by,
                        answer,
                    )
                )
        else:
            found.append(
                contacts.Contact(
                    invitation_id, ContactPurpose.INVITE, channel, first_day, by, answer
                )
            )
        # Credit as the report import gives it: another RM's contact counts (the SMS is the
        # own RM's; the other RM's call is made only when it brought an answer).
        reached_by_other = by != own and (channel != ContactChannel.SMS or answer is not None)
        credited = by if reached_by_other else None
        updates.append({"id": invitation_id, "answer": answer, "invited_by": credited})
    contacts.record(session, found, source="demo", now=now, recorded_by=None)
    session.execute(update(Invitation), updates)
    people = []
    for customer_id in customer_ids:
        employer = rng.choice(PAYROLL_EMPLOYERS) if rng.random() < 0.15 else None
        held = rng.sample(PRODUCTS, k=rng.choices([0, 1, 2, 3], [0.3, 0.35, 0.25, 0.1])[0])
        if employer:
            held.append("代发")
        people.append({"id": customer_id, "employer": employer, "products": "|".join(held)})
    session.execute(update(Customer), people)


def _aum_for_labels(customers: list[dict[str, object]], rng: random.Random) -> None:
    """Each customer's AUM inside the band of their tier label. Drawn from a stream of its own,
    so adding it left every other figure of the demo (names, balances, codes) as it was."""
    for customer in customers:
        low, high = AUM_FOR_LABEL[str(customer["tier"])]
        customer["aum"] = rng.randint(low, high) * 10_000 + rng.randrange(0, 10_000, 100)


def _add_tiers(session: Session, event_id: int, offers: list[Offer]) -> None:
    session.add_all(
        EventTier(event_id=event_id, code=code, name=name, aum_floor=floor, meaning=meaning)
        for code, name, floor, meaning in EVENT_TIERS
    )
    by_code = {offer.code: offer for offer in offers}
    session.add_all(
        OfferTier(offer_id=by_code[code].id, tier_code=tier, points_price=price, quota=quota)
        for code, tiers in OFFER_TIERS.items()
        for tier, (price, quota) in tiers.items()
    )


def _add_lots(
    session: Session,
    customers: list[dict[str, object]],
    customer_ids: Sequence[int],
    event_day: date,
    rng: random.Random,
) -> None:
    """One to three lots per customer summing to their balance, as the ledger's snapshot has
    them: some expire within three months of the event, some within twelve, some later or
    never. From a stream of their own, like the AUM."""
    rows = []
    for customer, customer_id in zip(customers, customer_ids, strict=True):
        balance = int(customer["points_balance"])  # type: ignore[call-overload]
        count = min(rng.choices([1, 2, 3], [0.3, 0.4, 0.3])[0], balance // 100)
        cuts = sorted(rng.sample(range(1, balance // 100), count - 1)) if count > 1 else []
        parts = [(b - a) * 100 for a, b in zip([0, *cuts], [*cuts, balance // 100], strict=True)]
        for ref, points in enumerate(parts, start=1):
            kind = rng.choices(["soon", "year", "later", "never"], [0.3, 0.3, 0.2, 0.2])[0]
            expires_on = {
                "soon": event_day + timedelta(days=rng.randint(10, 85)),
                "year": event_day + timedelta(days=rng.randint(100, 355)),
                "later": event_day + timedelta(days=rng.randint(400, 1000)),
                "never": None,
            }[kind]
            rows.append(
                {
                    "customer_id": customer_id,
                    "ref": str(ref),
                    "points": points,
                    "expires_on": expires_on,
                }
            )
    session.execute(insert(PointsLot).execution_options(render_nulls=True), rows)
