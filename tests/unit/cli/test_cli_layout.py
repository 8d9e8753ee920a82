"""The command line stays easy to change: one module per command group (``cli/*_commands.py``)
plus the shared helpers (``cli/common.py``, ``cli/staff.py``), ``cli/main.py`` only building
the parser and dispatching; no import circle among them, and no module over ~400 lines."""

from __future__ import annotations

from pathlib import Path

import grimp

CLI = Path(__file__).resolve().parents[3] / "cli"
MOST_LINES = 400


def test_no_import_circle_among_the_cli_modules() -> None:
    """Imports inside functions count too (grimp reads them all): a circle hidden in a
    handler is still a circle."""
    graph = grimp.build_graph("cli")
    modules = sorted(graph.find_descendants("cli") | {"cli"})
    circles = []
    for module in modules:
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.split(".")[0] != "cli" or imported == module:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                circles.append(" -> ".join([module, *back]))
    assert circles == []


def test_a_circle_is_found() -> None:
    """The check above sees a circle when there is one (two modules importing each other)."""
    graph = grimp.ImportGraph()
    for name in ("cli", "cli.a", "cli.b"):
        graph.add_module(name)
    graph.add_import(importer="cli.a", imported="cli.b")
    graph.add_import(importer="cli.b", imported="cli.a")
    assert graph.find_shortest_chain(importer="cli.b", imported="cli.a") == ("cli.b", "cli.a")


def test_only_main_imports_the_command_groups() -> None:
    """A group that needs another group's code wants it moved to the shared helpers. The
    mains dispatch to them: ``kiosk`` (cli.main) and the booth build's ``kiosk-booth``
    (cli.booth_main, the booth group's commands alone)."""
    graph = grimp.build_graph("cli")
    groups = {m for m in graph.find_descendants("cli") if m.endswith("_commands")}
    importers = {
        (importer, group)
        for group in groups
        for importer in graph.find_modules_that_directly_import(group)
        if importer not in ("cli.main", "cli.booth_main")
    }
    assert importers == set()


def test_no_cli_module_is_over_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CLI.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MOST_LINES} == {}
