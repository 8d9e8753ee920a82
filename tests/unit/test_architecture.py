"""The domain imports no Qt and none of the outer packages (import-linter plus a direct scan)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "shiboken6", "ui", "printing", "sync", "cli")


def test_import_linter_contracts() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


def test_no_forbidden_import_anywhere_in_kiosk() -> None:
    """Catches imports the linter cannot see, such as ones inside functions."""
    offenders = []
    for path in (ROOT / "kiosk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN
            ]
    assert offenders == []


# The central ledger's own tables (sync/ledger.py is the reference ledger, another database).
WRITES_ANOTHER_DATABASE = {"sync/ledger.py"}
DML = {"insert", "update", "delete"}
WRITE_CALLS = {"add", "add_all", "merge", "bulk_save_objects", "bulk_insert_mappings"}


def test_only_services_write_the_event_database() -> None:
    """Every write to the event database goes through ``kiosk/services`` with its permission
    check (issue #18): the faces and sync build no SQL writes and add no ORM objects. Reads
    (``select``) are theirs to make; the ledger's module writes the ledger's own database."""
    offenders = []
    for package in ("ui", "cli", "printing", "sync"):
        for path in (ROOT / package).rglob("*.py"):
            where = path.relative_to(ROOT).as_posix()
            if where in WRITES_ANOTHER_DATABASE:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "sqlalchemy"
                ):
                    offenders += [f"{where}: imports {a.name}" for a in node.names if a.name in DML]
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITE_CALLS
                    and "session" in ast.unparse(node.func.value)
                ):
                    offenders.append(f"{where}:{node.lineno}: {ast.unparse(node.func)}")
    assert offenders == []
