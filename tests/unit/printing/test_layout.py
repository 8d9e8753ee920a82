"""Layout that never loses text (issue #28): every document kind with long and rare texts.

Each document is rendered with texts at the import's maximum lengths (event name 200, venue
200, merchant 100, service 100, description 300, customer and staff names 64, booth 16
characters) holding rare characters, then read back with pdfplumber: every character lies
inside the printable area (4–76 mm on the 80 mm roll, 5 mm in from the edges on sheets), no
two characters of different lines overlap, and every input string is in the text in full or
cut with "…".
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pdfplumber
import pytest
from reportlab.lib.units import mm
from sqlalchemy import select, update

from kiosk import audit
from kiosk.db import open_database
from kiosk.masking import mask_name
from kiosk.models import Branch, Customer, Event, Merchant, Offer, Slip, Staff
from kiosk.services.activation import CatalogOffer
from kiosk.services.reception import QueueTicket
from kiosk.services.slips import SlipDocument
from kiosk.services.tracking import Booklet
from printing.booklet import BookletPaper, render_booklet
from printing.event_reports import REPORTS, write_event_report
from printing.slips import Paper, render_slip
from printing.text import ELLIPSIS
from printing.tickets import render_queue_ticket
from tests.simulate_support import simulate


def _long(seed: str, length: int) -> str:
    """``seed`` repeated to exactly ``length`` characters."""
    return (seed * (length // len(seed) + 1))[:length]


EVENT = _long("广州分行二〇二六年度尊享积分兑换答谢活动（会展中心主会场，Pazhou Hall A）", 200)
VENUE = _long("广州市海珠区阅江中路380号琶洲会展中心A区三楼东侧多功能厅，", 200)
MERCHANT = _long("康宁国际体检中心（天河旗舰店）Kangning International Health Centre ", 100)
OFFER = _long("尊享版全身深度体检套餐含胃肠镜及心脑血管专项筛查（两人同行）", 100)
DESCRIPTION = _long(
    "营业时间：周一至周六08:00–17:00，周日休息；须提前三个工作日致电预约，凭兑换单及本人"
    "身份证到店，空腹前往。Valid Monday to Saturday, booking required three days ahead. ",
    300,
)
CUSTOMER = _long("欧阳䶮𫖯𬌗·阿依古丽买买提", 64)
RM = _long("司马𠂇䶶经理", 64)
BOOTH = _long("A1东区入口左侧第三展位", 16)
SHEET_MARGIN = 5 * mm


@dataclass
class Span:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int


def _chars(path: Path) -> tuple[list[Span], list[tuple[float, float]]]:
    with pdfplumber.open(path) as document:
        sizes = [(p.width, p.height) for p in document.pages]
        spans = [
            Span(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], n)
            for n, page in enumerate(document.pages)
            for c in page.chars
            # Slanted chart labels (rotated by the chart's transformation) are checked on the
            # pages by eye; their boxes overlap by design.
            if abs(c["matrix"][1]) < 1e-6 and abs(c["matrix"][2]) < 1e-6
        ]
    return spans, sizes


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_document(
    path: Path, strings: list[str], left: float | None = None, right: float | None = None
) -> None:
    spans, sizes = _chars(path)
    assert spans, f"{path.name} has no text"
    outside = []
    for s in spans:
        width, height = sizes[s.page]
        lo = SHEET_MARGIN if left is None else left
        hi = width - SHEET_MARGIN if right is None else right
        vertical = 0 if left is not None else SHEET_MARGIN  # the roll has no top or bottom
        if s.x0 < lo - 0.5 or s.x1 > hi + 0.5 or s.top < vertical - 0.5:
            outside.append((s.text, round(s.x0 / mm, 1), round(s.x1 / mm, 1), s.page))
        elif s.bottom > height - vertical + 0.5:
            outside.append((s.text, round(s.top / mm, 1), round(s.bottom / mm, 1), s.page))
    assert outside == [], f"{path.name}: text outside the printable area {outside[:10]}"
    overlaps = []
    for page in range(len(sizes)):
        on_page = sorted(
            (s for s in spans if s.page == page and s.text.strip()), key=lambda s: s.x0
        )
        for i, a in enumerate(on_page):
            for b in itertools.islice(on_page, i + 1, None):
                if b.x0 >= a.x1 - 0.3:
                    break
                across = min(a.x1, b.x1) - max(a.x0, b.x0)
                down = min(a.bottom, b.bottom) - max(a.top, b.top)
                if across > 0.3 and down > 0.3:
                    overlaps.append(
                        (a.text, b.text, page, round(a.x0 / mm, 1), round(a.top / mm, 1))
                    )
    assert overlaps == [], f"{path.name}: overlapping text {overlaps[:10]}"
    stream = _squeeze("".join(s.text for s in spans))
    for string in strings:
        wanted = _squeeze(string)
        if wanted in stream:
            continue
        kept = next(
            (k for k in range(len(wanted) - 1, 0, -1) if wanted[:k] + ELLIPSIS in stream), 0
        )
        assert kept, f"{path.name}: “{string[:30]}…” is neither whole nor cut with “…”"


ROLL = (4 * mm, 76 * mm)


def _slip(**changes: object) -> SlipDocument:
    values: dict[str, object] = {
        "event_name": EVENT,
        "serial": 123456,
        "code": "K1." + "A" * 180,
        "merchant": MERCHANT,
        "offer": OFFER,
        "quantity": 2,
        "points": 1234567,
        "redeem_by": date(2027, 5, 28),
        "masked_name": mask_name(CUSTOMER),
    }
    values.update(changes)
    return SlipDocument(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("paper", list(Paper))
@pytest.mark.parametrize("case", ["long", "short", "rare"])
def test_slips_keep_every_text_inside_the_paper(tmp_path: Path, paper: Paper, case: str) -> None:
    slip = {
        "long": _slip(),
        "short": _slip(event_name="积分日", merchant="M", offer="体检", masked_name="王*"),
        "rare": _slip(
            event_name="䶮𫖯𬌗尊享日", merchant="𠂇记", offer="䶶体检", masked_name="𫖯**"
        ),
    }[case]
    path = render_slip(slip, tmp_path / f"slip-{paper}-{case}.pdf", paper)
    strings = [slip.event_name, slip.merchant, slip.offer, slip.masked_name]
    if paper == Paper.ROLL_80MM:
        check_document(path, strings, *ROLL)
    else:
        check_document(path, strings)


@pytest.mark.parametrize("case", ["long", "rare"])
def test_queue_tickets_keep_every_text_on_the_roll(tmp_path: Path, case: str) -> None:
    ticket = QueueTicket(
        event_name=EVENT if case == "long" else "䶮𫖯尊享日",
        ticket="J123",
        queue="activation",  # type: ignore[arg-type]
        waiting_ahead=12,
        masked_name=mask_name(CUSTOMER),
        checked_in_at=datetime(2026, 11, 28, 1, 10, tzinfo=UTC),
        timezone="Asia/Shanghai",
    )
    path = render_queue_ticket(ticket, tmp_path / f"ticket-{case}.pdf")
    check_document(path, [ticket.event_name, ticket.masked_name, "J123"], *ROLL)


def _booklet() -> Booklet:
    offers = [
        CatalogOffer(
            code=f"O{n:03d}",
            name=OFFER if n % 2 else "基础体检",
            category="health",
            merchant_code=f"M{n // 3:02d}",
            merchant_name=MERCHANT if n < 3 else f"悦途旅行社{n // 3}",
            booth=BOOTH,
            points_price=12000 * n,
            remaining=10,
            redeem_by=date(2027, 5, 28),
            description=DESCRIPTION if n % 3 else "营业时间：每日09:00–18:00。",
        )
        for n in range(1, 10)
    ]
    return Booklet(EVENT, date(2026, 11, 28), VENUE, "https://example.com/" + "c" * 120, offers)


@pytest.mark.parametrize("paper", list(BookletPaper))
def test_booklets_keep_every_text_inside_the_page(tmp_path: Path, paper: BookletPaper) -> None:
    booklet = _booklet()
    path = render_booklet(booklet, tmp_path / f"booklet-{paper}.pdf", paper)
    strings = [EVENT, VENUE, MERCHANT, OFFER, DESCRIPTION, BOOTH, booklet.catalog_url]
    check_document(path, strings)


@pytest.fixture(scope="module")
def long_event(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    """A simulated day whose names are at the import's maximum lengths, rare characters in."""
    folder = tmp_path_factory.mktemp("layout")
    _summary, clock = simulate(folder / "event.sqlite3", invitees=40)
    url = f"sqlite:///{folder / 'event.sqlite3'}"
    database = open_database(url)
    with database.unit_of_work() as uow, audit.unaudited():
        s = uow.session
        s.execute(update(Event).values(name=EVENT, venue=VENUE))
        merchant = s.scalars(select(Merchant).order_by(Merchant.id)).first()
        assert merchant is not None
        s.execute(
            update(Merchant).where(Merchant.id == merchant.id).values(name=MERCHANT, booth=BOOTH)
        )
        offer = s.scalars(select(Offer).where(Offer.merchant_id == merchant.id)).first()
        assert offer is not None
        s.execute(
            update(Offer).where(Offer.id == offer.id).values(name=OFFER, description=DESCRIPTION)
        )
        customer_id = s.scalar(select(Slip.customer_id).limit(1))
        s.execute(update(Customer).where(Customer.id == customer_id).values(name=CUSTOMER))
        rm_id = s.scalar(select(Customer.rm_id).where(Customer.rm_id.is_not(None)).limit(1))
        s.execute(update(Staff).where(Staff.id == rm_id).values(name=RM))
        s.execute(
            update(Branch)
            .where(Branch.id == s.scalar(select(Branch.id).limit(1)))
            .values(name=_long("天河区珠江新城高德置地冬广场支行", 100))
        )
        uow.commit()
    database.dispose()
    return url, clock


@pytest.mark.parametrize("name", [kind.name for kind in REPORTS])
def test_reports_keep_every_text_inside_the_page(
    tmp_path: Path, long_event: tuple[str, object], name: str
) -> None:
    url, clock = long_event
    database = open_database(url)
    try:
        files = write_event_report(name, database.unit_of_work, tmp_path, clock=clock)  # type: ignore[arg-type]
    finally:
        database.dispose()
    pdf = next(f for f in files if f.suffix == ".pdf")
    strings = {"merchants": [MERCHANT, OFFER], "rm": [RM]}.get(name, [])
    check_document(pdf, [EVENT, VENUE, *strings])


def test_the_e_catalog_has_no_stray_spaces_in_chinese(tmp_path: Path) -> None:
    from kiosk.i18n import set_language
    from printing.booklet import render_html

    set_language("zh_CN")
    try:
        page = render_html(_booklet(), tmp_path / "catalog.html").read_text("utf-8")
    finally:
        set_language("en")
    how = re.search(r'<p class="how">(.*?)</p>', page)
    assert how is not None and "积分" in how.group(1)
    stray = re.findall(r"[\u3001-\u9fff\uff01-\uff1f] +[\u3001-\u9fff\uff01-\uff1f]", page)
    assert stray == []
