"""The slip code: round trip, every verdict, layout-safe text, QR, fixed vectors, keys."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import qrcode
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from kiosk.errors import KioskError
from kiosk.slipcode import (
    ALPHABET,
    PREFIX,
    SlipPayload,
    Verdict,
    decode,
    encode,
    event_tag,
    key_id,
    lock_private_key,
    unlock_private_key,
    verify,
)

ROOT = Path(__file__).resolve().parents[3]
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # the documented test key
DEMO = event_tag("DEMO")
PAYLOAD = SlipPayload(DEMO, 1, 1, 101, 1, 12000, date(2027, 5, 27), "王**")
KEYS = {key_id(KEY.public_key()): KEY.public_key()}
TODAY = date(2026, 11, 28)


def check(code: str, **overrides: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {"public_keys": KEYS, "event": DEMO, "merchant": 1, "today": TODAY}
    options.update(overrides)
    return verify(code, **options)  # type: ignore[arg-type]


def test_round_trip() -> None:
    code = encode(PAYLOAD, KEY)
    result = check(code)
    assert result.verdict == Verdict.VALID
    assert result.payload is not None
    assert result.payload.masked_name == "王**" and result.payload.points == 12000
    assert result.payload.redeem_by == date(2027, 5, 27)


def test_every_verdict() -> None:
    code = encode(PAYLOAD, KEY)
    assert check(code, merchant=2).verdict == Verdict.OTHER_MERCHANT
    assert check(code, today=date(2027, 5, 28)).verdict == Verdict.EXPIRED
    assert check(code, today=date(2027, 5, 27)).verdict == Verdict.VALID  # the last day
    assert check(code, revoked=frozenset({1})).verdict == Verdict.REVOKED
    other_key = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    other_event = encode(
        SlipPayload(event_tag("OTHER"), 1, 1, 101, 1, 500, TODAY, "李*"), other_key
    )
    assert check(other_event).verdict == Verdict.OTHER_EVENT
    forged = encode(PAYLOAD, other_key)  # right event, key not the event's
    assert check(forged).verdict == Verdict.BAD_SIGNATURE
    for garbage in (
        "",
        "hello",
        "KX",
        PREFIX + "BC",
        "KXBCBCBCBCBCBCBCBCBCBCBCBCBCBCBCBC",
        code + "B",
        code[:-2],
        code.replace("B", "1"),
        code.replace("B", "A"),  # hex digits, but none of the code's letters
        code.replace("C", "0"),
        code[:10] + "\u00c9" + code[11:],  # a letter outside ASCII
    ):
        assert check(garbage).verdict == Verdict.UNREADABLE, garbage


def test_one_changed_character_breaks_the_signature() -> None:
    code = encode(PAYLOAD, KEY)
    serial_start = len(PREFIX) + 2 * 9  # version, key id and event tag come first
    letter = code[serial_start + 7]
    changed = code[: serial_start + 7] + ("C" if letter != "C" else "D") + code[serial_start + 8 :]
    result = check(changed)
    assert result.verdict == Verdict.BAD_SIGNATURE
    assert result.payload is not None and result.payload.serial != 1  # it was read, not trusted


def test_text_is_safe_for_keyboard_wedge_scanners_and_qr() -> None:
    assert len(set(ALPHABET)) == 16
    assert not set(ALPHABET) & set("AQWZYM0123456789")  # these move on AZERTY / QWERTZ
    code = encode(PAYLOAD, KEY)
    assert re.fullmatch(r"[A-Z]+", code)  # QR alphanumeric mode, no shift key needed
    assert decode(code.lower()) is not None  # a scanner with caps lock off still works
    assert decode(" ".join([code[:50], code[50:]])) is not None


def test_qr_round_trip_through_a_real_decoder() -> None:
    code = encode(PAYLOAD, KEY)
    image = qrcode.make(code, box_size=4, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    assert [r.text for r in results] == [code]
    assert check(results[0].text).verdict == Verdict.VALID


def test_documented_vectors() -> None:
    """docs/slip-code.md publishes these; the format must not drift from them."""
    document = (ROOT / "docs" / "slip-code.md").read_text(encoding="utf-8")
    vectors = re.findall(r"^\| (\d) \| `(KX[A-Z]+)` \|", document, re.M)
    assert len(vectors) == 2
    first = encode(PAYLOAD, KEY)
    second = encode(SlipPayload(DEMO, 4242, 10, 1001, 2, 10000, date(2027, 2, 26), "欧阳**"), KEY)
    assert [code for _n, code in vectors] == [first, second]


def test_private_key_locked_with_a_passphrase() -> None:
    locked = lock_private_key(KEY, "correct horse battery")
    assert b"ENCRYPTED" in locked
    unlocked = unlock_private_key(locked, "correct horse battery")
    assert key_id(unlocked.public_key()) == key_id(KEY.public_key())
    with pytest.raises(KioskError, match="Wrong passphrase"):
        unlock_private_key(locked, "wrong horse battery")
    with pytest.raises(KioskError, match="at least 8"):
        lock_private_key(KEY, "short")


def test_slip_verify_command(capsys: pytest.CaptureFixture[str], demo_url: str) -> None:
    """``kiosk slip verify`` judges a code with the event's own keys and names."""
    from sqlalchemy import select

    from cli.main import main
    from kiosk.db import open_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.models import Merchant, Offer
    from kiosk.services import keys

    database = open_database(demo_url)
    private = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    with pytest.raises(KioskError, match="Wrong passphrase"):
        keys.unlock(database.unit_of_work(), "not the passphrase")
    with database.unit_of_work() as uow:
        merchant, offer = uow.session.execute(
            select(Merchant, Offer).join(Offer).where(Offer.code == "O101")
        ).one()
    code = encode(
        SlipPayload(
            event_tag("DEMO"), 7, merchant.id, offer.id, 1, 12000, date(2027, 5, 27), "王**"
        ),
        private,
    )
    database.dispose()

    def run(*argv: str) -> tuple[int, str]:
        status = main(["--lang", "en", "--db", demo_url, "slip", "verify", *argv])
        return status, capsys.readouterr().out

    status, out = run(code, "--date", "2026-11-28")
    assert status == 0
    assert out.splitlines() == [
        "Valid",
        "Slip 7: 康宁体检中心 · 基础体检套餐 × 1 · 12,000 points · redeem by 2027-05-27 · 王**",
    ]
    assert run(code, "--merchant", "M02", "--date", "2026-11-28")[1].startswith(
        "For another merchant"
    )
    assert run(code, "--date", "2027-06-01")[1].startswith("Expired")
    assert run(encode(PAYLOAD, KEY), "--date", "2026-11-28")[1].startswith("Bad signature")
    status, out = run("NOT-A-SLIP")
    assert (status, out.strip()) == (1, "Unreadable: not a slip code")


def test_key_rotation_keeps_old_slips_valid(demo_url: str) -> None:
    from kiosk.db import open_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.services import keys

    database = open_database(demo_url)
    old = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    before = encode(SlipPayload(DEMO, 1, 1, 1, 1, 100, date(2027, 1, 1), "张*"), old)
    from kiosk.clock import FixedClock
    from kiosk.services.auth import staff_session

    clock = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))
    supervisor = staff_session(database.unit_of_work(), "S001", clock=clock)
    new_id = keys.create_event_key(
        database.unit_of_work(), "a new passphrase", supervisor, clock=clock
    )
    new = keys.unlock(database.unit_of_work(), "a new passphrase")
    assert key_id(new.public_key()).hex() == new_id != key_id(old.public_key()).hex()
    after = encode(SlipPayload(DEMO, 2, 1, 1, 1, 100, date(2027, 1, 1), "张*"), new)
    for code in (before, after):
        assert (
            keys.verify_code(database.unit_of_work(), code, today=date(2026, 11, 28)).verdict
            == Verdict.VALID
        )
    with pytest.raises(KioskError, match="Wrong passphrase"):
        keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)  # the retired key's passphrase
    database.dispose()
