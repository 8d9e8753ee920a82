"""Importing invitee files: throughput with sealing, and the memory a large file needs.

Fifteen branches send their lists as .xlsx made by hand; the largest events have a few hundred
thousand invitees. Before issue #17 the import wrote 247 rows/s (a flush per row) and checking
a 50 MB file peaked at 981 MiB. Targets (this 2-core machine): at least 3,000 rows/s with
sealing for 20,000 and 200,000 rows; below 300 MiB to check a 50 MB file.

Every figure is put next to its floor, what the same file costs before the app does anything:
the app's own streaming reader (``kiosk.imports.xlsx``) iterating every row (values only).
``ratio`` is app time / floor time. Until that reader replaced openpyxl for imports, the floor
was openpyxl's read-only iteration (3,600-4,000 rows/s and 442 MiB here); it is still
measured, next to it, so the two can be compared.

- ``read floor, N rows`` (rows/s): the app's reader iterating every row of the file.
- ``read openpyxl, N rows`` (rows/s): openpyxl read-only iteration of the file (the old floor).
- ``check, N rows`` (rows/s): ``services.imports.check_file`` (read, normalise, check every
  row, duplicates), nothing written.
- ``import sealed, N rows, sqlite`` (rows/s): ``kiosk import invitees`` as the service does it
  on a copy of the demo event with its privacy key: check, bulk write of customers,
  invitations, preselections and search keys, every phone / ID / address sealed, audit, commit.
- ``import sealed, 20,000 rows, postgresql`` (rows/s): the same into PostgreSQL (the event
  copied there first), when a server answers at ``KIOSK_BENCH_PG`` (default 127.0.0.1).
- ``... ratio to floor`` (×): import or check time / floor time, per sample.
- ``peak memory, check 414,000 rows`` (MiB): maximum resident set of a process that checks
  the 414,000-row file (the issue's 50 MB file had as many rows; 30 MB with these columns)
  and nothing else; ``... floor`` the same for the app's reader, ``... openpyxl`` for
  openpyxl's iteration.

The files are generated once into ``benchmarks/.cache/`` (the 414,000-row one takes minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import CACHE, ROOT, Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

SIZES = (20_000, 200_000)
BIG_ROWS = 414_000  # the issue's 50 MB file had as many rows (30 MB with these columns)
HEADER = [
    "客户号", "姓名", "手机号", "证件号码", "证件到期日", "网点", "客户经理工号", "场次",
    "积分余额", "积分日期", "客户等级", "手机银行", "地址", "预选服务",
]  # fmt: skip
PG_ADMIN = os.environ.get("KIOSK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹欧阳"
GIVEN = "明华伟芳静敏丽强军磊洋勇艳杰娟涛超秀霞平刚桂英玉兰萍红娥玲梅琳晨浩宇子轩一诺欣怡梓涵"


def _name(n: int) -> str:
    """About 100,000 distinct names, with the repetition of real given names."""
    surname = SURNAMES[n % 30] if n % 97 else "欧阳"
    given = GIVEN[n // 30 % len(GIVEN)] + ("" if n % 5 == 0 else GIVEN[n // 1500 % len(GIVEN)])
    return surname + given


def invitee_file(rows: int) -> Path:
    """An .xlsx of ``rows`` distinct invitees of the demo event (cached)."""
    from openpyxl import Workbook

    from kiosk.idcard import check_digit

    path = CACHE / f"invitees-{rows}.xlsx"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    progress(f"writing {path.name}, once")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(HEADER)
    for n in range(rows):
        day = n % 20_160  # 60 years x 12 months x 28 days, then the sequence number
        born = f"19{40 + day // 336}{1 + day // 28 % 12:02d}{1 + day % 28:02d}"
        first17 = f"440106{born}{n // 20_160 % 1000:03d}"
        sheet.append(
            [
                f"70{n:08d}",
                _name(n),
                f"13{n % 10}{n:08d}",
                first17 + check_digit(first17),
                "长期" if n % 3 else "2031-05-20",
                f"B0{1 + n % 5}",
                "RM001" if n % 2 else "",
                "AM" if n % 2 else "PM",
                1000 + n % 50_000,
                "2026-11-20",
                "gold" if n % 7 == 0 else "standard",
                "活跃" if n % 2 else "未开通",
                f"广州市天河区体育西路{n % 300}号{n % 40}栋{n % 30}0{n % 9}房",
                "O101" if n % 5 == 0 else "",
            ]
        )
    partial = path.with_suffix(".partial")
    book.save(partial)
    partial.replace(path)
    return path


def _floor(path: Path) -> float:
    from kiosk.imports.xlsx import Workbook

    started = time.perf_counter()
    book = Workbook(path)
    for _row in book.rows(book.worksheets[0]):
        pass
    book.close()
    return time.perf_counter() - started


def _openpyxl(path: Path) -> float:
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=True)
    for _row in book.worksheets[0].iter_rows(values_only=True):
        pass
    book.close()
    return time.perf_counter() - started


def _event_copy(tmp: Path, name: str) -> str:
    copy = tmp / f"{name}.sqlite3"
    shutil.copyfile(demo_database(240), copy)
    return sqlite_url(copy)


def _pg_event(sqlite: str) -> str | None:
    """The demo event copied into a fresh PostgreSQL database, or None without a server."""
    import uuid

    try:
        import psycopg

        admin = psycopg.connect(
            PG_ADMIN.replace("postgresql+psycopg://", "postgresql://"),
            autocommit=True,
            connect_timeout=3,
        )
    except Exception as error:  # no server: the row is left out, said on stderr
        progress(f"imports: no PostgreSQL ({error}); its row is skipped")
        return None
    name = f"kiosk_bench_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    from kiosk.eventcopy import copy_event

    copy_event(sqlite, url)
    return url


def _drop_pg(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _import(url: str, path: Path, rows: int) -> float:
    from kiosk.db import open_database
    from kiosk.services.auth import staff_session
    from kiosk.services.imports import import_file

    database = open_database(url)
    try:
        supervisor = staff_session(database.unit_of_work(), "S001")
        started = time.perf_counter()
        result = import_file(database.unit_of_work(), "invitees", path, supervisor)
        seconds = time.perf_counter() - started
        assert result.created == rows and result.check.ok, result
        return seconds
    finally:
        database.dispose()


def _check(url: str, path: Path, rows: int) -> float:
    from kiosk.db import open_database
    from kiosk.services.imports import check_file

    database = open_database(url)
    try:
        started = time.perf_counter()
        check = check_file(database.unit_of_work(), "invitees", path)
        seconds = time.perf_counter() - started
        assert check.ok and check.rows == rows, check.issues[:3]
        return seconds
    finally:
        database.dispose()


_PEAK = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
path = Path({path!r})
if {floor!r} == "floor":
    from kiosk.imports.xlsx import Workbook
    book = Workbook(path)
    for _row in book.rows(book.worksheets[0]):
        pass
elif {floor!r} == "openpyxl":
    from openpyxl import load_workbook
    book = load_workbook(path, read_only=True, data_only=True)
    for _row in book.worksheets[0].iter_rows(values_only=True):
        pass
else:
    from kiosk.db import open_database
    from kiosk.services.imports import check_file
    database = open_database({url!r})
    check = check_file(database.unit_of_work(), "invitees", path)
    assert check.ok and check.rows == {rows}, check.issues[:3]
# VmHWM, the peak of this process's own memory: ru_maxrss would also count the parent's size
# at the fork (Linux keeps the larger), so every row said the benchmark's own 430-440 MiB.
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def _peak(url: str, path: Path, rows: int, floor: str) -> float:
    """Peak resident memory (MiB) of a fresh process that reads (``floor``: "floor" with the
    app's reader, "openpyxl") or checks ("") the file."""
    code = _PEAK.format(root=str(ROOT), path=str(path), floor=floor, url=url, rows=rows)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(result.stdout.split()[-1]) / 1024


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    repeat = 1 if quick else 3
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for size in SIZES[:1] if quick else SIZES:
            path = invitee_file(size)
            times = 1 if size > 50_000 else repeat
            floors = [_floor(path) for _ in range(times)]
            floor = min(floors)
            openpyxl = [_openpyxl(path) for _ in range(times)]
            checks, imports = [], []
            for i in range(times):
                progress(f"imports: {size:,} rows, check and import {i + 1}/{times}")
                url = _event_copy(tmp, f"event-{size}-{i}")
                checks.append(_check(url, path, size))
                imports.append(_import(url, path, size))
            rows += [
                Row(f"read floor, {size:,} rows", "rows/s", [size / t for t in floors]),
                Row(f"read openpyxl, {size:,} rows", "rows/s", [size / t for t in openpyxl]),
                Row(f"check, {size:,} rows", "rows/s", [size / t for t in checks]),
                Row(f"check, {size:,} rows, ratio to floor", "×", [t / floor for t in checks]),
                Row(f"import sealed, {size:,} rows, sqlite", "rows/s", [size / t for t in imports]),
                Row(
                    f"import sealed, {size:,} rows, ratio to floor",
                    "×",
                    [t / floor for t in imports],
                ),
            ]
        size = SIZES[0]
        pg_samples = []
        for i in range(repeat):
            url = _pg_event(_event_copy(tmp, f"pg-source-{i}"))
            if url is None:
                break
            try:
                progress(f"imports: {size:,} rows into PostgreSQL {i + 1}/{repeat}")
                pg_samples.append(size / _import(url, invitee_file(size), size))
            finally:
                _drop_pg(url)
        if pg_samples:
            rows.append(Row(f"import sealed, {size:,} rows, postgresql", "rows/s", pg_samples))
        if not quick:
            big = invitee_file(BIG_ROWS)
            progress(f"imports: peak memory, {BIG_ROWS:,} rows, {big.stat().st_size / 1e6:.0f} MB")
            url = _event_copy(tmp, "event-big")
            rows += [
                Row(
                    "peak memory, read 414,000 rows, floor",
                    "MiB",
                    [_peak(url, big, BIG_ROWS, "floor")],
                ),
                Row(
                    "peak memory, read 414,000 rows, openpyxl",
                    "MiB",
                    [_peak(url, big, BIG_ROWS, "openpyxl")],
                ),
                Row("peak memory, check 414,000 rows", "MiB", [_peak(url, big, BIG_ROWS, "")]),
            ]
    return rows
