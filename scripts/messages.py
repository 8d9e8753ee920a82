"""List the message ids passed to ``_()`` (and ``n_()``) that a catalog lacks.

``python scripts/messages.py [zh_CN]`` prints the missing ids as a JSON object to fill in and
merge into ``assets/translations/<language>.json``; ``tests/unit/test_i18n.py`` runs the same
check and fails on any missing id.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("kiosk", "ui", "printing", "sync", "cli", "gateway")


def message_ids() -> dict[str, str]:
    """Every literal message id in the source, with the first place it appears."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                # _("id"), and n_(n, "one", "many") whose two forms are both ids
                texts = {"_": node.args[:1], "n_": node.args[1:3]}.get(node.func.id, [])
                for arg in texts:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def missing(language: str) -> dict[str, str]:
    path = ROOT / "assets" / "translations" / f"{language}.json"
    catalog = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {m: where for m, where in message_ids().items() if m not in catalog}


def merge(language: str, translations: dict[str, str]) -> None:
    """Add translations to the catalog, keeping it sorted by first appearance in the code."""
    path = ROOT / "assets" / "translations" / f"{language}.json"
    catalog = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    catalog.update(translations)
    order = list(message_ids())
    known = {m: i for i, m in enumerate(order)}
    ordered = dict(sorted(catalog.items(), key=lambda kv: known.get(kv[0], len(order))))
    path.write_text(json.dumps(ordered, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    # python scripts/messages.py [LANG]            -> missing ids as JSON to fill in
    # python scripts/messages.py LANG --merge FILE -> merge a filled-in JSON file
    lang = sys.argv[1] if len(sys.argv) > 1 else "zh_CN"
    if len(sys.argv) > 3 and sys.argv[2] == "--merge":
        merge(lang, json.loads(Path(sys.argv[3]).read_text(encoding="utf-8")))
    else:
        print(json.dumps({m: "" for m in missing(lang)}, ensure_ascii=False, indent=2))
