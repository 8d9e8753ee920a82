"""What the two PyInstaller specs share (freeze/kiosk.spec, freeze/kiosk-booth.spec):
the data files each build carries and the modules it must or must not hold.

One-folder builds: ``dist/kiosk/kiosk`` (``kiosk.exe`` on Windows) beside ``_internal/``, where
PyInstaller puts Python, Qt and every data file at the path the source tree has it
(``_internal/assets/fonts/…``, ``_internal/kiosk/migrations/…``). The app finds them the way
it does from a checkout, through the ``assets`` and ``kiosk`` packages
(``importlib.resources``), so no code asks whether it is frozen for its files.

Only files are listed here, never a folder whole: tests, a ``.venv``, a demo database or a
``__pycache__`` beside the sources can never slip into an archive
(tests/packaged/test_packaged.py checks the archives for them).
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent

# The data each build carries: (pattern under ROOT, folder in the bundle). A pattern that
# matches nothing adds nothing, so a folder that does not exist yet (assets/voice, recorded
# announcements) is taken as soon as it does, without a change here.
ASSETS = [
    ("assets/fonts/*.ttf", "assets/fonts"),
    ("assets/fonts/*.LICENSE.txt", "assets/fonts"),
    ("assets/fonts/tongyong-guifan-8105.txt", "assets/fonts"),  # printing.charsets reads it
    ("assets/translations/*.json", "assets/translations"),
    ("assets/sounds/*.wav", "assets/sounds"),
    ("assets/voice/*.wav", "assets/voice"),
    ("assets/voice/*.json", "assets/voice"),
    ("assets/icons/*.png", "assets/icons"),  # the header switch's tick (ui.theme)
]
# The event database's schema: alembic reads these as source files (kiosk.db._alembic_config).
MIGRATIONS = [
    ("kiosk/migrations/env.py", "kiosk/migrations"),
    ("kiosk/migrations/script.py.mako", "kiosk/migrations"),
    ("kiosk/migrations/versions/*.py", "kiosk/migrations/versions"),
]

# Never in either build: development tools that only the tests and scripts import.
DEVELOPMENT = [
    "tkinter",
    "pytest",
    "_pytest",
    "pytestqt",
    "xdist",
    "pdfplumber",
    "pdfminer",
    "pypdfium2",
    "fontTools",
    "psutil",
    "grimp",
    "importlinter",
    "IPython",
    "tests",
    "benchmarks",
    "scripts",
    "PyInstaller",
    # Packaging tools some library names optionally: with them PyInstaller adds a start-up
    # hook that imports setuptools at every start of the program.
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils",
    "pip",
    "wheel",
]

# Qt modules PyInstaller's hooks would otherwise take in with PySide6 helpers the app never
# uses (QML, the web engine, the designer's tools).
UNUSED_QT = [
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtHelp",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSvgWidgets",
    "PySide6.QtXml",
    "PySide6.QtConcurrent",
]


# Python's UTF-8 mode in the frozen programs: on Windows a command's output piped to a file or
# another program is otherwise in the ANSI code page, where a Chinese name cannot be written.
PYTHON_OPTIONS = [("X utf8", None, "OPTION")]


def datas(patterns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every file the patterns match, as PyInstaller's (source, folder in the bundle)."""
    found = []
    for pattern, folder in patterns:
        found += [(str(path), folder) for path in sorted(ROOT.glob(pattern)) if path.is_file()]
    return found


# The languages the app speaks (kiosk.i18n.LANGUAGES): Qt's own catalogs for the others stay
# out (7 MB of them).
QT_LANGUAGES = ("zh_CN", "en")


def only_our_languages(datas: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """PyInstaller's data list without Qt's catalogs (``PySide6/…/translations/*.qm``) for
    languages the app does not speak."""

    def wanted(dest: str) -> bool:
        path = PurePosixPath(dest.replace("\\", "/"))
        if path.suffix != ".qm" or "translations" not in path.parts:
            return True
        return path.stem.endswith(tuple(f"_{language}" for language in QT_LANGUAGES))

    return [entry for entry in datas if wanted(entry[0])]


def without_gtk_theme(binaries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Linux: PyInstaller's binary list without Qt's GTK 3 platform theme and the system
    libraries only it needs (cairo, pango, ATK, …; about 8 MB). The kiosk draws its own theme
    (ui/theme.py) and runs on whatever desktop the laptop has; without the plugin Qt uses its
    own look, which the app overrides anyway. A library anything else links is kept."""
    if not sys.platform.startswith("linux"):
        return binaries
    from PyInstaller.depend.bindepend import get_imports

    theme = [entry for entry in binaries if entry[0].endswith("platformthemes/libqgtk3.so")]
    if not theme:
        return binaries
    its = {PurePosixPath(name).name for name, _path in get_imports(theme[0][1])}
    rest = [entry for entry in binaries if entry not in theme]
    needed: set[str] = set()
    for dest, source, _kind in rest:
        if "/" in dest or dest not in its:
            needed |= {PurePosixPath(name).name for name, _path in get_imports(source)}
    return [entry for entry in rest if "/" in entry[0] or entry[0] not in its or entry[0] in needed]


def console() -> bool:
    """A console window: the commands print to it. On Windows the GUI is started from the
    Start-menu shortcut with ``kiosk.exe`` too, so the console stays (docs/install.md)."""
    return True
