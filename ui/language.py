"""The UI language: our own messages (``kiosk.i18n``) and Qt's together.

Qt draws some words itself: the standard buttons of message boxes and button boxes (OK,
Cancel, Yes, No), the file dialogs, a line edit's context menu. Those come from Qt's own
catalog, ``qtbase_<language>.qm``, which the PySide6-Essentials wheel ships in
``PySide6/Qt/translations`` (``QLibraryInfo``'s translations path). Without it a Chinese
screen asks "OK / Cancel". ``apply_language`` switches both catalogs and the default
``QLocale`` at once, so every window (main window, booth, connection dialog) switches the
same way; widgets built afterwards use the new language (the windows rebuild themselves).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QFileDialog

from kiosk.i18n import get_language, set_language

# Qt's catalogs per language of ours; English is Qt's own source language.
QT_CATALOGS: dict[str, tuple[str, ...]] = {"zh_CN": ("qtbase",), "en": ()}

# Qt's own file dialog rather than the desktop's: it speaks the UI language from Qt's catalog,
# where a desktop (GTK, portal) dialog speaks the laptop's language whatever the app shows.
FILE_DIALOG = QFileDialog.Option.DontUseNativeDialog

# What Qt's own catalog leaves in English: the file dialog's labels gained a shortcut (&) in
# Qt 6 and qtbase_zh_CN.qm still has only the older texts. Few enough to keep here.
QT_GAPS: dict[str, dict[tuple[str, str], str]] = {
    "zh_CN": {
        ("QFileDialog", "&Look in:"): "查找范围(&L)：",
        ("QFileDialog", "Files of &type:"): "文件类型(&T)：",
    },
}

_installed: list[QTranslator] = []  # kept referenced: Qt does not own an installed translator


class _Gaps(QTranslator):
    """Answers the few texts of ``QT_GAPS``; None lets Qt ask the next catalog."""

    def __init__(self, table: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.table = table

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        return self.table.get((context, source))

    def isEmpty(self) -> bool:
        return not self.table


def qt_translations_path() -> str:
    return QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)


def load_qt_catalog(language: str, catalog: str = "qtbase") -> QTranslator | None:
    """Qt's ``catalog`` for ``language``, or None when this Qt build has no such file."""
    translator = QTranslator()
    if translator.load(QLocale(language), catalog, "_", qt_translations_path()):
        return translator
    return None


def apply_language(language: str) -> str:
    """Switch our messages, Qt's standard texts and the default locale to ``language``
    (unknown codes fall back to the default); returns the language now in use."""
    set_language(language)
    code = get_language()
    app = QCoreApplication.instance()
    for translator in _installed:
        if app is not None:
            app.removeTranslator(translator)
    _installed.clear()
    if app is not None:
        for catalog in QT_CATALOGS.get(code, ()):
            translator = load_qt_catalog(code, catalog)
            if translator is not None:  # a stripped Qt build: its English texts stay
                app.installTranslator(translator)
                _installed.append(translator)
        if code in QT_GAPS:  # installed last, so asked first
            gaps = _Gaps(QT_GAPS[code])
            app.installTranslator(gaps)
            _installed.append(gaps)
    QLocale.setDefault(QLocale("en_US" if code == "en" else code))
    return code


def qt_catalogs_installed() -> list[str]:
    """The Qt catalog files in use (for the tests and the About box)."""
    return [t.filePath() for t in _installed if t.filePath()]
