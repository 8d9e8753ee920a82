"""The whole-file check: find the header row, map columns, check every row, then the rules
across rows (duplicates, merchants named once). Every issue is collected, none stops the
check, so the coordinator sees all mistakes at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    normalize_header,
)
from kiosk.imports.reading import Sheet, SheetRow
from kiosk.masking import mask_address, mask_id, mask_phone

MASKED = {
    "id_number": mask_id,
    "phone": mask_phone,
    "address": mask_address,
    "pin": lambda v: "****" if v else "",
}


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

    @property
    def ok(self) -> bool:
        return not self.issues


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
    for row in rows[:10]:
        names = {normalize_header(c) for c in row.cells if not cells.is_blank(c)}
        hits = sum(1 for s in spellings if s & names)
        if hits > best_hits:
            best, best_hits = row, hits
    return best


def check_sheet(sheet: Sheet, kind_name: str, ref: Reference) -> ImportCheck:
    kind = KINDS[kind_name]
    issues: list[ImportIssue] = []
    header = _header_row(sheet.rows, kind)
    if header is None:
        expected = ", ".join(_(f.header) for f in kind.fields if f.required)
        issues.append(
            ImportIssue(
                1,
                "",
                _("No header row found; the first row should name the columns: {names}.").format(
                    names=expected
                ),
            )
        )
        return ImportCheck(kind_name, sheet.encoding, 0, [], [], [], issues)
    by_spelling = {s: f for f in kind.fields for s in f.spellings()}
    mapping: dict[int, Field] = {}
    written: dict[str, str] = {}
    for index, cell in enumerate(header.cells):
        found = by_spelling.get(normalize_header(cell))
        if found is None:
            continue  # a coordinator's own notes column
        if found.name in written:
            issues.append(
                ImportIssue(
                    header.number,
                    cells.text(cell),
                    _("This column appears twice (also “{other}”).").format(
                        other=written[found.name]
                    ),
                )
            )
            continue
        mapping[index] = found
        written[found.name] = cells.text(cell)
    for f in kind.fields:
        if f.required and f.name not in written:
            issues.append(
                ImportIssue(header.number, _(f.header), _("This required column is missing."))
            )
    columns = {f.name: written.get(f.name, _(f.header)) for f in kind.fields}
    if issues:
        return ImportCheck(
            kind_name, sheet.encoding, header.number, list(written.values()), [], [], issues
        )
    notes = descriptions(kind)
    records: list[Any] = []
    preview: list[tuple[int, list[str]]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        if row.number <= header.number:
            continue
        values = {f.name: row.cells[i] if i < len(row.cells) else None for i, f in mapping.items()}
        filled = [v for v in values.values() if not cells.is_blank(v)]
        if not filled:
            continue
        if all(cells.text(v) in notes for v in filled):
            continue  # the template's description row
        preview.append(
            (
                row.number,
                [
                    MASKED.get(f.name, lambda v: v)(cells.text(values[f.name]))
                    for f in mapping.values()
                ],
            )
        )
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
        if not duplicate:
            records.append(record)
    if kind_name == "catalog":
        _check_merchants(records, ref, columns, issues)
    if not preview and not issues:
        issues.append(ImportIssue(header.number + 1, "", _("The file holds no data rows.")))
    issues.sort(key=lambda issue: issue.row)
    return ImportCheck(
        kind_name,
        sheet.encoding,
        header.number,
        [written[f.name] for f in mapping.values()],
        preview,
        records,
        issues,
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
