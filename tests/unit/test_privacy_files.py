"""No full ID number, phone or birth date in any file the app writes (JR/T 0171 practice).

Every file is made the way an operator makes it, through the ``kiosk`` command on the demo
event: queue ticket, slips, merchant pack, booth database, redemption bundle, reports (PDF and
XLSX), invitation progress and reminders (XLSX and TXT), the catalog booklet (PDF and HTML),
the import templates. Then the text of every file is read back (pdftotext for PDFs, openpyxl
cell values for workbooks, raw bytes for the rest, including the SQLite files) and searched
for the full ID number, the full phone and the birth date of every demo customer.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import Merchant, Offer
from kiosk.privacy import full_values
from tests.unit.cli.test_cli import run


def personal_values(url: str) -> set[str]:
    """Every demo customer's full phone, full ID number and birth date (as printed anywhere:
    19491231 and 1949-12-31), read with the passphrase."""
    database = open_database(url)
    values: set[str] = set()
    for person in full_values(database.unit_of_work(), DEMO_PASSPHRASE):
        if person.phone and len(person.phone) >= 7:
            values.add(person.phone)
        if person.id_number and len(person.id_number) == 18:
            values.add(person.id_number)
            born = person.id_number[6:14]
            values.update({born, f"{born[:4]}-{born[4:6]}-{born[6:]}"})
    database.dispose()
    assert len(values) > 600  # 240 phones, 240 IDs, their birth dates
    return values


def file_text(path: Path) -> str:
    """What a reader of the file can see: PDF text, workbook cells, or the raw bytes."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    if suffix == ".xlsx":
        book = openpyxl.load_workbook(path)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return path.read_bytes().decode("utf-8", "replace")


def leaks(directory: Path, values: set[str], *, skip: tuple[Path, ...] = ()) -> list[str]:
    found = []
    files = [p for p in directory.rglob("*") if p.is_file() and p not in skip]
    for path in files:
        text = file_text(path)
        found += [f"{path.name}: {v}" for v in values if v in text]
    return found


def test_no_full_id_phone_or_birth_date_in_any_file(
    capsys: pytest.CaptureFixture[str],
    sqlite_demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite only: the event database's own file (and its WAL) is one of the files scanned."""
    demo_url = sqlite_demo_url
    out = tmp_path / "files"
    out.mkdir()
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(out / "spool"))
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    monkeypatch.setenv("KIOSK_PRINTER", "pdf")
    monkeypatch.setenv("KIOSK_PIN", "1234")  # every demo staff member's
    base = ["--lang", "en", "--db", demo_url]

    def ok(*argv: str) -> str:
        code, stdout, err = run(capsys, *base, *argv)
        assert code == 0, (argv, err)
        return stdout

    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        merchant = uow.session.scalar(
            select(Merchant.code)
            .join(Offer, Offer.merchant_id == Merchant.id)
            .where(Offer.code == "O501")
        )
    database.dispose()
    assert merchant

    ok("checkin", "6200000040", "--staff", "R001")  # the queue ticket goes to the spool
    issued = ok(
        "slip", "issue", "--customer", "6200000040", "--offer", "O501",
        "--out", str(out / "slip.pdf"), "--staff", "A001",
    )  # fmt: skip
    code = issued.strip().splitlines()[-1]
    monkeypatch.setenv("KIOSK_SUPERVISOR_PIN", "1234")
    ok(
        "slip", "print", issued.split()[1], "--out", str(out / "slip-again.pdf"), "--staff",
        "A001", "--supervisor", "S001",
    )  # fmt: skip
    ok(
        "merchant-pack", "export", "--merchant", merchant, "--out", str(out / "pack.json"),
        "--staff", "M001",
    )  # fmt: skip
    booth = ["booth", "--booth-db", str(out / "booth.sqlite3")]
    ok(*booth, "install", str(out / "pack.json"))
    ok(*booth, "scan", code, "--staff", "李四")
    ok(*booth, "export", str(out / "bundle.json"))
    ok("bundle", "import", str(out / "bundle.json"), "--staff", "S001")
    for report in ("settlement", "reconciliation"):
        for suffix in ("xlsx", "pdf"):
            ok("report", report, "--out", str(out / f"{report}.{suffix}"))
    (out / "event-reports").mkdir()
    ok("report", "all", "--dir", str(out / "event-reports"))  # summary, RM, unredeemed, ...
    (out / "statements").mkdir()
    ok("report", "merchant-statements", "--dir", str(out / "statements"))
    ok("export", "progress", str(out / "progress.xlsx"))
    ok("export", "reminders", str(out / "reminders.xlsx"))
    ok("export", "reminders", str(out / "reminders.txt"))
    ok("booklet", "--out", str(out / "booklet.pdf"), "--html", str(out / "catalog.html"))
    ok("templates", str(out / "templates"))

    written = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert {"slip.pdf", "pack.json", "booth.sqlite3", "bundle.json", "reminders.txt"} <= set(
        written
    )
    assert {"report-unredeemed.xlsx", "report-rm.pdf", "report-merchants.pdf"} <= set(written)
    assert "statement-M01.pdf" in written
    assert any(name.startswith("ticket-") for name in written), written
    values = personal_values(demo_url)
    assert leaks(out, values) == []
    # The event database itself (and its WAL) holds them sealed only.
    event_file = Path(demo_url.removeprefix("sqlite:///"))
    for path in (event_file, event_file.with_name(event_file.name + "-wal")):
        if path.exists():
            shutil.copy(path, out / f"copy-{path.name}")
    assert (out / f"copy-{event_file.name}").exists()
    assert leaks(out, values) == []
    # The scan does find a leak: a reminder text with full phones is caught.
    (out / "leaky.txt").write_text("\n".join(sorted(values)[:3]), encoding="utf-8")
    assert len(leaks(out, values)) == 3
