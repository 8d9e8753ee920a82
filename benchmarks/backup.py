"""Backups of the event database, and what sealing personal data costs an import.

The app backs the event database up every few minutes from a timer on its main thread
(``ui/backup_status.py``), so a backup must be short enough not to be felt at a desk; and
every imported phone, ID number and address is now sealed (``kiosk.privacy``), which must not
make the import of a large invitee file noticeably slower.

- ``backup VACUUM INTO, N invitees`` (ms): ``kiosk.backup.backup`` of the demo event with N
  invitees into a folder on the same disk: consistent copy, fsync, rename, rotation (the app
  and ``kiosk backup`` do exactly this). 240 and 100,000 invitees.
- ``backup online API, N invitees`` (ms): the sqlite3 online backup API in one step, for
  comparison (also consistent; keeps free pages, so a purge's bytes could survive in it).
- ``import 5,000 invitees, sealed`` / ``..., in clear`` (s): ``kiosk import invitees`` of a
  CSV with 5,000 new invitees on a copy of the demo event, with its privacy key (every value
  sealed) and with the key removed (the clear mode of a database not yet encrypted).
- ``seal one value`` (µs): ``Sealer.seal`` of a phone number.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks import Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

SIZES = (240, 100_000)
IMPORT_ROWS = 5_000


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for invitees in SIZES if not quick else SIZES[:1]:
        rows += _backups(invitees, 3 if quick else 10)
    rows += _imports(1 if quick else 3)
    rows.append(_seal(2_000 if quick else 20_000))
    return rows


def _backups(invitees: int, repeat: int) -> list[Row]:
    from kiosk.backup import backup
    from kiosk.db import open_database

    source = demo_database(invitees)
    vacuum, online = [], []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "event.sqlite3"
        shutil.copyfile(source, copy)
        database = open_database(sqlite_url(copy))
        progress(f"backup: {invitees:,} invitees, {copy.stat().st_size / 1e6:.1f} MB")
        for i in range(repeat + 1):
            result = backup(database, Path(tmp) / "usb", keep=2)
            if i:  # the first run warms the file cache
                vacuum.append(result.seconds * 1000)
            target = Path(tmp) / f"online-{i}.sqlite3"
            started = time.perf_counter()
            src = sqlite3.connect(copy)
            dst = sqlite3.connect(target)
            src.backup(dst, pages=-1)
            dst.close()
            src.close()
            if i:
                online.append((time.perf_counter() - started) * 1000)
            target.unlink()
        database.dispose()
    return [
        Row(f"backup VACUUM INTO, {invitees:,} invitees", "ms", vacuum),
        Row(f"backup online API, {invitees:,} invitees", "ms", online),
    ]


def _invitee_file(path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["客户号", "姓名", "手机号", "证件号码", "网点", "客户经理工号", "场次", "积分余额"]
        )
        from kiosk.idcard import check_digit

        for n in range(IMPORT_ROWS):
            first17 = f"440106198{n % 10}0{1 + n % 9}1{n % 10}{n % 1000:03d}"
            writer.writerow(
                [
                    f"63{n:08d}",
                    f"王{'明华伟芳'[n % 4]}{'一二三'[n % 3]}",
                    f"139{n:08d}",
                    first17 + check_digit(first17),
                    "B01",
                    "RM001",
                    "AM",
                    20_000,
                ]
            )
    return path


def _imports(repeat: int) -> list[Row]:
    from sqlalchemy import delete

    from kiosk.db import open_database
    from kiosk.models import PrivacyKey
    from kiosk.services.auth import staff_session
    from kiosk.services.imports import import_file

    sealed, clear = [], []
    with tempfile.TemporaryDirectory() as tmp:
        data = _invitee_file(Path(tmp) / "invitees.csv")
        for i in range(repeat * 2):
            copy = Path(tmp) / f"event-{i}.sqlite3"
            shutil.copyfile(demo_database(240), copy)
            database = open_database(sqlite_url(copy))
            with_key = i % 2 == 0
            if not with_key:
                with database.unit_of_work() as uow:
                    uow.session.execute(delete(PrivacyKey))
                    uow.commit()
            progress(f"import: {IMPORT_ROWS:,} invitees, {'sealed' if with_key else 'in clear'}")
            started = time.perf_counter()
            supervisor = staff_session(database.unit_of_work(), "S001")
            result = import_file(database.unit_of_work(), "invitees", data, supervisor)
            seconds = time.perf_counter() - started
            assert result.created == IMPORT_ROWS, result
            (sealed if with_key else clear).append(seconds)
            database.dispose()
    return [
        Row(f"import {IMPORT_ROWS:,} invitees, sealed", "s", sealed),
        Row(f"import {IMPORT_ROWS:,} invitees, in clear", "s", clear),
    ]


def _seal(count: int) -> Row:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk.privacy import Sealer

    sealer = Sealer(X25519PrivateKey.generate().public_key().public_bytes_raw())
    samples = []
    for _round in range(5):
        started = time.perf_counter()
        for _ in range(count):
            sealer.seal("phone", "13812345678")
        samples.append((time.perf_counter() - started) / count * 1e6)
    return Row("seal one value", "µs", samples)
