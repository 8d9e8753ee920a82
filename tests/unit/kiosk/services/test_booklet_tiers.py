"""The booklet and the e-catalog show what each tier pays (issue #19): an offer with tier prices
lists them beside its own price, a tier's quota is said ("金卡限 20 名"), and the cover explains
the tiers once by their AUM bands. Read back from the PDF (pdftotext, and every text inside the
page) and from the HTML, on both backends."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.db import Database
from kiosk.i18n import set_language
from kiosk.models import EventTier, Offer, OfferTier
from kiosk.services import tracking
from kiosk.services.events import current_event
from kiosk.services.tracking import TierTerms
from printing.booklet import BookletPaper, render_booklet, render_html, tier_line
from tests.points_support import drop_tiers
from tests.unit.printing.test_layout import check_document


@pytest.fixture(autouse=True)
def _english_after() -> object:
    yield
    set_language("en")


def _tiers(db: Database) -> None:
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup: the event's bands
        s = uow.session
        event = current_event(s)
        drop_tiers(s)  # the demo's own tiers, if any: these tests set theirs
        s.add_all(
            [
                EventTier(event_id=event.id, code="GOLD", name="金卡", aum_floor=50_000),
                EventTier(
                    event_id=event.id,
                    code="DIAMOND",
                    name="钻石",
                    aum_floor=3_000_000,
                    meaning="专属客户经理",
                ),
            ]
        )
        offers = {o.code: o for o in s.scalars(select(Offer))}
        s.add_all(
            [
                # Listed out of order: the booklet says the lower tier first.
                OfferTier(offer_id=offers["O101"].id, tier_code="DIAMOND", points_price=6_000),
                OfferTier(
                    offer_id=offers["O101"].id, tier_code="GOLD", points_price=8_000, quota=20
                ),
                # The offer's own price for 金卡, with a quota: only the quota is said.
                OfferTier(
                    offer_id=offers["O501"].id, tier_code="GOLD", points_price=2_000, quota=5
                ),
                # Neither a price of its own nor a quota: nothing to say.
                OfferTier(offer_id=offers["O601"].id, tier_code="GOLD"),
                # A tier the event no longer has.
                OfferTier(offer_id=offers["O702"].id, tier_code="NOPE", points_price=1),
            ]
        )
        uow.commit()


def _pdftotext(pdf: Path) -> str:
    run = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return re.sub(r"[ \t]+", " ", run.stdout.decode("utf-8"))


def test_the_booklet_reads_each_tiers_price(demo_db: Database) -> None:
    _tiers(demo_db)
    booklet = tracking.booklet(demo_db.unit_of_work())
    assert [t.code for t in booklet.tiers] == ["GOLD", "DIAMOND"]
    assert booklet.tier_terms == {
        "O101": [TierTerms("金卡", 8_000, 20), TierTerms("钻石", 6_000, None)],
        "O501": [TierTerms("金卡", None, 5)],
    }
    assert [o.points_price for o in booklet.offers if o.code == "O101"] == [12_000]
    set_language("en")
    assert tier_line(booklet.tier_terms["O101"]) == (
        "金卡 8,000 points  ·  钻石 6,000 points  ·  金卡: 20 places"
    )
    set_language("zh_CN")
    assert (
        tier_line(booklet.tier_terms["O101"])
        == "金卡 8,000 积分  ·  钻石 6,000 积分  ·  金卡限 20 名"
    )
    assert tier_line(booklet.tier_terms["O501"]) == "金卡限 5 名"


@pytest.mark.parametrize("paper", list(BookletPaper))
def test_the_booklet_pdf_and_the_e_catalog_show_the_tier_prices(
    demo_db: Database, tmp_path: Path, paper: BookletPaper
) -> None:
    _tiers(demo_db)
    set_language("zh_CN")
    booklet = tracking.booklet(demo_db.unit_of_work())
    pdf = render_booklet(booklet, tmp_path / f"booklet-{paper}.pdf", paper)
    text = _pdftotext(pdf)
    flat = re.sub(r"\s+", "", text)
    # The cover explains the tiers once, by their bands.
    pages = text.split("\f")
    assert len(pages) > 2
    cover = re.sub(r"\s+", "", pages[0])
    assert "您的客户等级按在本行的资产确定" in cover
    assert "金卡：资产5万元起" in cover and "钻石：资产300万元起" in cover
    assert "专属客户经理" not in cover  # the meaning is the statement's
    assert flat.count("金卡：资产5万元起") == 1  # once, not on every page
    # Beside the offer's own price, what each tier pays, and the tier's places.
    assert "金卡8,000积分·钻石6,000积分·金卡限20名" in flat
    assert "12,000积分" in flat and "金卡限5名" in flat
    check_document(pdf, ["金卡 8,000 积分", "金卡限 20 名"])

    page = render_html(booklet, tmp_path / "catalog.html").read_text(encoding="utf-8")
    o101 = page.split('id="O101"', 1)[1].split("</article>", 1)[0]
    assert '<p class="price">12,000 积分</p>' in o101
    assert (
        '<p class="tier"><span>金卡 8,000 积分</span> · <span>钻石 6,000 积分</span> · '
        "<span>金卡限 20 名</span></p>"
    ) in o101
    assert "金卡：资产 5 万元起<br>钻石：资产 300 万元起</p>" in page
    o601 = page.split('id="O601"', 1)[1].split("</article>", 1)[0]
    assert 'class="tier"' not in o601


def test_without_tiers_the_booklet_is_as_before(demo_db: Database, tmp_path: Path) -> None:
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup: an event without tiers
        drop_tiers(uow.session)
        uow.commit()
    booklet = tracking.booklet(demo_db.unit_of_work())
    assert booklet.tiers == [] and booklet.tier_terms == {}
    page = render_html(booklet, tmp_path / "catalog.html").read_text(encoding="utf-8")
    assert 'class="tier"' not in page and "tiers" not in page
