"""The whole-file check: find the header row, map columns, check every row, then the rules
across rows (duplicates, merchants named once). Every issue is collected, none stops the
check, so the coordinator sees all mistakes at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain, islice, pairwise
from typing import Any

from kiosk import money
from kiosk.errors import KioskError
from kiosk.gb18030 import GB18030_2022_REMAPPED, undisplayable
from kiosk.i18n import _, catalog
from kiosk.imports import cells
from kiosk.imports.kinds import (
    KINDS,
    Field,
    ImportIssue,
    Kind,
    OfferRecord,
    Reference,
    RowCheck,
    TierRecord,
    normalize_header,
)
from kiosk.imports.reading import HEAD_ROWS, Sheet, SheetRow
from kiosk.masking import mask_address, mask_id, mask_phone

MASKED = {
    "id_number": mask_id,
    "phone": mask_phone,
    "address": mask_address,
    "pin": lambda v: "****" if v else "",
}


PREVIEW_ROWS = 20  # rows shown in the preview; the check still reads every row
PROGRESS_EVERY = 500  # rows between two progress reports
IGNORE = "-"  # ``--map "备注=-"``: leave the column out


class Cancelled(KioskError):
    """The coordinator pressed Cancel; nothing was imported."""

    def __init__(self) -> None:
        super().__init__(_("The import was cancelled; nothing was imported."))


@dataclass(frozen=True)
class ImportCheck:
    """What a file would import, and why it cannot when ``issues`` is not empty."""

    kind: str
    encoding: str
    header_row: int
    columns: list[str]  # headers as written, of the columns that are imported
    preview: list[tuple[int, list[str]]]  # (row number, cells as text, personal data masked)
    records: list[Any] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    sheet: str = ""  # the sheet read ("" for a CSV)
    skipped_sheets: list[str] = field(default_factory=list)  # hidden sheets, not read
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (header, field name)
    unused: list[str] = field(default_factory=list)  # headers of the columns left out
    normalised: dict[str, int] = field(default_factory=dict)  # what ``cells.clean`` did
    rows: int = 0  # data rows read
    headers: list[str] = field(default_factory=list)  # every named column, in file order
    branch: str = ""  # the one branch every row belongs to ("" when several or none)

    @property
    def ok(self) -> bool:
        return not self.issues

    def normalised_sentences(self) -> list[str]:
        """What the check normalised, a sentence each (the characters themselves are
        invisible): the admin tab and ``kiosk import`` say the same."""
        said = {
            cells.INVISIBLE: _("{n} cell(s): invisible or control characters removed"),
            cells.WIDTH: _("{n} cell(s): full-width characters made half-width"),
            cells.DIGITS: _("{n} cell(s): digits of other scripts made 0-9"),
        }
        return [
            _("Normalised: {what}.").format(what=said[what].format(n=n))
            for what, n in self.normalised.items()
        ]


def descriptions(kind: Kind) -> set[str]:
    """Every language's description texts, to recognise a template's description row."""
    zh = catalog("zh_CN")
    found = set()
    for f in kind.fields:
        found.update({f.description, zh.get(f.description, f.description), _(f.description)})
    return {cells.text(d) for d in found}


def _header_row(rows: list[SheetRow], kind: Kind) -> SheetRow | None:
    spellings = [f.spellings() for f in kind.fields]
    best, best_hits = None, 0
    for row in rows[:HEAD_ROWS]:
        names = {normalize_header(c) for c in row.cells if not cells.is_blank(c)}
        hits = sum(1 for s in spellings if s & names)
        if hits > best_hits:
            best, best_hits = row, hits
    return best


def header_finder(kind_name: str) -> Callable[[list[SheetRow]], bool]:
    """Whether a sheet's first rows hold this import's header (two fields or more)."""
    kind = KINDS[kind_name]
    spellings = [f.spellings() for f in kind.fields]

    def found(rows: list[SheetRow]) -> bool:
        for row in rows[:HEAD_ROWS]:
            names = {normalize_header(c) for c in row.cells if not cells.is_blank(c)}
            if sum(1 for s in spellings if s & names) >= min(2, len(spellings)):
                return True
        return False

    return found


def _looks_like(header: str, f: Field) -> bool:
    """A header that holds a field's name without being one of its spellings
    ("客户手机号码（必填）2", "身份证号码_新")."""
    for spelling in f.spellings():
        long_enough = len(spelling) >= 5 if spelling.isascii() else len(spelling) >= 2
        if long_enough and spelling in header:
            return True
    return False


def field_named(kind: Kind, name: str) -> Field | None:
    """A field by its canonical name or any of its header spellings (for ``--map``)."""
    wanted = normalize_header(name)
    for f in kind.fields:
        if f.name == name or wanted in f.spellings():
            return f
    return None


def map_columns(
    header: SheetRow, kind: Kind, overrides: dict[str, str]
) -> tuple[dict[int, Field], list[str], list[ImportIssue], set[str]]:
    """Each column to a field (the coordinator's choice first, then the synonyms), the
    columns left out, a question for every column that could be two things, and the fields
    asked about (not missing: the answer decides)."""
    issues: list[ImportIssue] = []
    by_spelling = {s: f for f in kind.fields for s in f.spellings()}
    chosen = {normalize_header(h): v for h, v in overrides.items()}
    mapping: dict[int, Field] = {}
    unused: list[str] = []
    named: dict[int, str] = {}
    for index, cell in enumerate(header.cells):
        if cells.is_blank(cell):
            continue
        named[index] = cells.text(cell)
        choice = chosen.get(normalize_header(cell))
        if choice is None:
            continue
        if choice == IGNORE:
            unused.append(named[index])
            continue
        f = field_named(kind, choice)
        if f is None:
            raise KioskError(
                _("“{name}” is not a column of this import; use one of: {names}.").format(
                    name=choice, names=", ".join(x.name for x in kind.fields)
                )
            )
        other = next((named[i] for i, g in mapping.items() if g is f), None)
        if other is not None:
            issues.append(
                ImportIssue(
                    header.number,
                    named[index],
                    _("“{other}” is already chosen as “{field}”; choose one column for it.").format(
                        other=other, field=_(f.header)
                    ),
                )
            )
            continue
        mapping[index] = f
    taken = {f.name for f in mapping.values()}
    by_synonym: dict[str, list[int]] = {}
    for index, written in named.items():
        if index in mapping or written in unused:
            continue
        f = by_spelling.get(normalize_header(written))
        if f is None or f.name in taken:
            continue
        by_synonym.setdefault(f.name, []).append(index)
    fields = {f.name: f for f in kind.fields}
    asked: set[str] = set()
    for name, indexes in by_synonym.items():
        if len(indexes) == 1:
            mapping[indexes[0]] = fields[name]
            continue
        headers = [named[i] for i in indexes]
        asked.add(name)
        issues.append(
            ImportIssue(
                header.number,
                headers[1],
                _(
                    "Which column is “{field}”: {columns}? Choose it under Columns (on the "
                    'command line: --map "{first}={name}"), or rename or delete the other one.'
                ).format(
                    field=_(fields[name].header),
                    columns="、".join(f"“{h}”" for h in headers),
                    first=headers[0],
                    name=name,
                ),
            )
        )
    taken = {f.name for f in mapping.values()}
    for index, written in named.items():
        if index in mapping or written in unused:
            continue
        if any(named[i] == written for i in (x for v in by_synonym.values() for x in v)):
            continue
        key = normalize_header(written)
        alike = [f for f in kind.fields if f.name not in taken and _looks_like(key, f)]
        if alike:
            issues.append(
                ImportIssue(
                    header.number,
                    written,
                    _(
                        "Is this column “{fields}”? Choose under Columns what it holds (on the "
                        'command line: --map "{column}={name}", or --map "{column}=-" to leave '
                        "it out), or rename its header to “{header}”."
                    ).format(
                        fields="”/“".join(_(f.header) for f in alike),
                        header=_(alike[0].header),
                        column=written,
                        name=alike[0].name,
                    ),
                )
            )
        unused.append(written)
    return mapping, unused, issues, asked


def check_sheet(
    sheet: Sheet,
    kind_name: str,
    ref: Reference,
    overrides: dict[str, str] | None = None,
    *,
    keep_records: bool = True,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportCheck:
    """Read the sheet once, front to back, and check every row.

    ``overrides`` maps headers as written to field names (``IGNORE`` leaves one out);
    ``keep_records=False`` counts the rows without keeping them (a check only: a 400,000-row
    file then needs little memory); ``progress`` hears the rows checked so far and
    ``cancelled`` stops the check (``Cancelled``)."""
    try:
        return _check_sheet(
            sheet, kind_name, ref, overrides or {}, keep_records, progress, cancelled
        )
    finally:
        sheet.close()


def _check_sheet(
    sheet: Sheet,
    kind_name: str,
    ref: Reference,
    overrides: dict[str, str],
    keep_records: bool,
    progress: Callable[[int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> ImportCheck:
    kind = KINDS[kind_name]
    issues: list[ImportIssue] = []
    rows = iter(sheet.rows)
    head = list(islice(rows, HEAD_ROWS))
    header = _header_row(head, kind)
    base = {"sheet": sheet.name, "skipped_sheets": sheet.skipped}
    if header is None:
        expected = ", ".join(_(f.header) for f in kind.fields if f.required)
        where = _(" on the sheet “{sheet}”").format(sheet=sheet.name) if sheet.name else ""
        issues.append(
            ImportIssue(
                1,
                "",
                _(
                    "No header row found{where}; the first row should name the columns: {names}."
                ).format(where=where, names=expected),
            )
        )
        return ImportCheck(kind_name, sheet.encoding, 0, [], [], [], issues, **base)  # type: ignore[arg-type]
    mapping, unused, issues, asked = map_columns(header, kind, overrides)
    written = {f.name: cells.text(header.cells[i]) for i, f in mapping.items()}
    for f in kind.fields:
        instead = f.unless and f.unless in written  # Points may give way to Points lots
        if f.required and f.name not in written and f.name not in asked and not instead:
            issues.append(
                ImportIssue(header.number, _(f.header), _("This required column is missing."))
            )
    columns = {f.name: written.get(f.name, _(f.header)) for f in kind.fields}
    base["mapping"] = [(written[f.name], f.name) for f in mapping.values()]  # type: ignore[assignment]
    base["headers"] = [cells.text(c) for c in header.cells if not cells.is_blank(c)]  # type: ignore[assignment]
    base["unused"] = unused  # type: ignore[assignment]
    if issues:
        # The columns need an answer first; the first rows still show what they hold.
        items = sorted(mapping.items())
        glimpse = [
            (
                row.number,
                [
                    MASKED.get(f.name, _same)(
                        cells.text(cells.clean(v)[0] if isinstance(v, str) else v)
                    )
                    for v, f in (
                        (row.cells[i] if i < len(row.cells) else None, f) for i, f in items
                    )
                ],
            )
            for row in head
            if row.number > header.number
        ]
        return ImportCheck(
            kind_name, sheet.encoding, header.number, [written[f.name] for _i, f in items],
            glimpse, [], issues, **base,  # type: ignore[arg-type]
        )  # fmt: skip
    notes = descriptions(kind)
    records: list[Any] = []
    preview: list[tuple[int, list[str]]] = []
    seen: dict[tuple[str, str], int] = {}
    normalised: dict[str, int] = {}
    codes = _Codes([f for f in mapping.values() if f.code_column])
    counted = 0
    branches: set[str] = set()
    items = sorted(mapping.items())
    for row in chain(head, rows):
        if row.number <= header.number:
            continue
        values: dict[str, Any] = {}
        width = len(row.cells)
        for i, f in items:
            value = row.cells[i] if i < width else None
            if isinstance(value, str):
                value, changed = cells.clean(value, fold=not f.prose)
                for what in changed:
                    normalised[what] = normalised.get(what, 0) + 1
            values[f.name] = value
        filled = [v for v in values.values() if not cells.is_blank(v)]
        if not filled:
            continue
        if counted < 3 and all(cells.text(v) in notes for v in filled):
            continue  # the template's description row
        counted += 1
        if progress is not None and counted % PROGRESS_EVERY == 0:
            if cancelled is not None and cancelled():
                raise Cancelled
            progress(counted)
        if len(preview) < PREVIEW_ROWS:
            preview.append(
                (
                    row.number,
                    [MASKED.get(f.name, _same)(cells.text(values[f.name])) for _i, f in items],
                )
            )
        codes.see(row.number, values)
        check = RowCheck(row.number, values, columns, issues)
        _check_characters(check)
        record = kind.check(check, ref)
        if record is None:
            continue
        duplicate = False
        for key in kind.key(record):
            if key in seen:
                check.issue(key[0], _("Duplicate: the same as row {row}.").format(row=seen[key]))
                duplicate = True
            else:
                seen[key] = row.number
        if not duplicate and keep_records:
            records.append(record)
        branch = getattr(record, "branch", None)
        if branch and len(branches) < 2:
            branches.add(branch)
    if progress is not None:
        progress(counted)
    codes.refuse(columns, issues)
    if kind_name == "catalog":
        _check_merchants(records, ref, columns, issues)
        _check_merchant_rates(records, columns, issues)
    if kind_name == "tiers":
        _check_tier_bands(records, ref, columns, issues, header.number)
    if not counted and not issues:
        issues.append(ImportIssue(header.number + 1, "", _("The file holds no data rows.")))
    issues.sort(key=lambda issue: issue.row)
    return ImportCheck(
        kind_name,
        sheet.encoding,
        header.number,
        [written[f.name] for _i, f in items],
        preview,
        records,
        issues,
        normalised=normalised,
        rows=counted,
        branch=next(iter(branches)) if len(branches) == 1 else "",
        **base,  # type: ignore[arg-type]
    )


def _same(value: str) -> str:
    return value


class _Codes:
    """Leading zeros Excel dropped: a code column where some cells are numbers and others
    are text that keeps a leading zero ("0012345" next to 12345), or where the numbers are
    shorter than the text codes around them. Judged once the whole column is read."""

    def __init__(self, fields: list[Field]) -> None:
        self.fields = fields
        self.numbers: dict[str, list[tuple[int, int]]] = {f.name: [] for f in fields}
        self.zero: dict[str, str] = {}  # field -> an example that keeps its leading zero
        self.widths: dict[str, set[int]] = {f.name: set() for f in fields}

    def see(self, number: int, values: dict[str, Any]) -> None:
        for f in self.fields:
            value = values.get(f.name)
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float):
                if float(value).is_integer() and value >= 0:
                    self.numbers[f.name].append((number, int(value)))
            elif isinstance(value, str):
                code = value.strip()
                if code.isdigit():
                    self.widths[f.name].add(len(code))
                    if code.startswith("0") and f.name not in self.zero:
                        self.zero[f.name] = code

    def refuse(self, columns: dict[str, str], issues: list[ImportIssue]) -> None:
        for f in self.fields:
            widths = self.widths[f.name]
            zero = self.zero.get(f.name)
            for row, value in self.numbers[f.name]:
                digits = len(str(value))
                if zero is None and not (f.text_column and widths and digits < min(widths)):
                    continue
                example = zero or "0" * (min(widths) - digits) + str(value)
                issues.append(
                    ImportIssue(
                        row,
                        columns[f.name],
                        _(
                            "Excel stored {value} as a number and may have dropped its leading "
                            "zeros (other rows keep them, e.g. “{example}”): set the column's "
                            "format to Text (Format Cells › Text) and type the code again."
                        ).format(value=value, example=example),
                    )
                )


def _check_characters(check: RowCheck) -> None:
    """Name every character of a text cell that no document can show (a private-use or
    unassigned code point), with its code point: printed, it would be a blank or a box."""
    for name, value in check.values.items():
        if not isinstance(value, str):
            continue
        for char in undisplayable(value):
            code = ord(char)
            standard = GB18030_2022_REMAPPED.get(code)
            if standard is not None:
                message = _(
                    "Undisplayable character U+{code:04X}: it is GB 18030-2005's private-use "
                    "code for “{char}” (U+{standard:04X}); type that character instead."
                ).format(code=code, char=chr(standard), standard=standard)
            else:
                message = _(
                    "Undisplayable character U+{code:04X} (a private-use or unassigned code "
                    "point that no font or other system shows); type the standard character."
                ).format(code=code)
            check.issue(name, message)


def _check_merchants(
    records: list[OfferRecord], ref: Reference, columns: dict[str, str], issues: list
) -> None:
    """A merchant is named once (or already known); the same code never gets two names."""
    names: dict[str, tuple[str, int]] = {}
    for record in records:
        if record.merchant_name:
            first = names.get(record.merchant_code)
            if first and first[0] != record.merchant_name:
                issues.append(
                    ImportIssue(
                        record.row,
                        columns["merchant_name"],
                        _("Merchant {code} is called “{name}” in row {row}.").format(
                            code=record.merchant_code, name=first[0], row=first[1]
                        ),
                    )
                )
            names.setdefault(record.merchant_code, (record.merchant_name, record.row))
    for record in records:
        if record.merchant_code not in names and record.merchant_code not in ref.merchants:
            issues.append(
                ImportIssue(
                    record.row,
                    columns["merchant_code"],
                    _("There is no merchant “{value}”; give its name in this row.").format(
                        value=record.merchant_code
                    ),
                )
            )


def _check_merchant_rates(
    records: list[OfferRecord], columns: dict[str, str], issues: list
) -> None:
    """A merchant has one settlement rate: written on one of its rows or on all of them,
    never two different ones."""
    rates: dict[str, tuple[int, int]] = {}
    for record in records:
        if record.rate_micro is None:
            continue
        first = rates.setdefault(record.merchant_code, (record.rate_micro, record.row))
        if first[0] != record.rate_micro:
            issues.append(
                ImportIssue(
                    record.row,
                    columns["rate"],
                    _(
                        "Merchant {code} has the settlement rate {rate} in row {row}: one rate "
                        "per merchant."
                    ).format(
                        code=record.merchant_code, rate=money.format_rate(first[0]), row=first[1]
                    ),
                )
            )


def _check_tier_bands(
    records: list[TierRecord],
    ref: Reference,
    columns: dict[str, str],
    issues: list,
    header_row: int,
) -> None:
    """Bands listed from the lowest up, each floor above the one before (``kiosk.tiers``
    stores them so); a tier that slips were issued for stays, under its code."""
    # A row that failed its own check holds a code too: removals are judged on a clean file.
    every_row_read = not any(issue.row > header_row for issue in issues)
    for lower, higher in pairwise(records):
        if higher.aum_floor <= lower.aum_floor:
            issues.append(
                ImportIssue(
                    higher.row,
                    columns["aum_floor"],
                    _(
                        "Tier bound out of order: the AUM floor {floor:,} must be above "
                        "{lower_floor:,}, the floor of {lower} in row {row}; list the tiers "
                        "from the lowest band up."
                    ).format(
                        floor=higher.aum_floor,
                        lower_floor=lower.aum_floor,
                        lower=lower.name,
                        row=lower.row,
                    ),
                )
            )
    kept = {record.code for record in records}
    for code, slips in sorted(ref.issued_tiers.items()):
        if every_row_read and code not in kept:
            issues.append(
                ImportIssue(
                    header_row,
                    columns["code"],
                    _(
                        "{n} slip(s) were issued for tier {code}: it cannot be removed nor get "
                        "another code; keep its row with the code {code}."
                    ).format(n=slips, code=code),
                )
            )
