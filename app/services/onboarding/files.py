"""Reading onboarding files (XLSX workbooks, CSV) into rows of text, and writing the templates.

The reader only finds the sheets, maps headers to column keys and turns cells into text;
what the text means is checked by `app.services.onboarding`. Row numbers are the
spreadsheet's: the header is row 1.
"""

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.core.errors import PayloadTooLarge, Unprocessable
from app.services.onboarding.spec import (
    MESSAGES,
    NOTES,
    NOTES_SHEET,
    SHEET_KINDS,
    SPECS,
    ImportKind,
    KindSpec,
    Problem,
)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: the pre-2007 .xls format
# A small XLSX may inflate a lot (a zip bomb): refuse one whose parts add up past this.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass
class Row:
    number: int
    cells: dict[str, str]  # column key → text, stripped ("" when empty)
    formulas: set[str] = field(default_factory=set)  # keys whose cell is a formula


@dataclass
class Sheet:
    spec: KindSpec
    title: str | None  # None for a CSV
    positions: dict[str, int] = field(default_factory=dict)  # column key → 0-based index
    rows: list[Row] = field(default_factory=list)

    def problem(self, code: str, message: str, *, row: int | None = None,
                key: str | None = None, value: str | None = None,
                index: int | None = None) -> Problem:
        """A problem located on this sheet (and row, and column by key or index, if given)."""
        column = self.spec.column(key) if key else None
        if key in self.positions:
            index = self.positions[key]
        cell = f"{get_column_letter(index + 1)}{row}" if index is not None and row else None
        return Problem(code=code, message=message, kind=self.spec.kind.value, sheet=self.title,
                       row=row, column=key, header=column.label if column else None,
                       cell=cell, value=value[:100] if value else None)


@dataclass
class Upload:
    sheets: list[Sheet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets)


def read_upload(data: bytes, *, kind: ImportKind | None, max_rows: int) -> Upload:
    """The sheets of an XLSX workbook (restricted to `kind` when given) or of a CSV (one
    `kind`, required). Refuses (422) a file it cannot read at all or holding more than
    `max_rows` data rows; header problems and formula cells are reported as problems."""
    if data.startswith(XLS_MAGIC):
        raise Unprocessable(MESSAGES["xls"])
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, kind=kind, max_rows=max_rows)
    if kind is None:
        raise Unprocessable(MESSAGES["csv_kind"])
    return _read_csv(data, kind=kind, max_rows=max_rows)


def _read_xlsx(data: bytes, *, kind: ImportKind | None, max_rows: int) -> Upload:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise Unprocessable(MESSAGES["xlsx"].format(error=error)) from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PayloadTooLarge(MESSAGES["too_large"].format(
            limit_mb=MAX_UNZIPPED_BYTES // (1024 * 1024)))
    try:
        # read_only streams the sheets; data_only=False keeps formulas visible as formulas
        # (never evaluated, and never silently replaced by a cached result).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise Unprocessable(MESSAGES["xlsx"].format(error=type(error).__name__)) from None
    upload = Upload()
    seen: dict[ImportKind, str] = {}
    try:
        for worksheet in workbook.worksheets:
            title = worksheet.title
            sheet_kind = SHEET_KINDS.get(title.strip()) or SHEET_KINDS.get(title.strip().lower())
            if title.strip() == NOTES_SHEET:
                continue
            if sheet_kind is None:
                upload.problems.append(Problem(
                    code="unknown_sheet", sheet=title,
                    message=MESSAGES["unknown_sheet"].format(title=title)))
                continue
            if kind is not None and sheet_kind != kind:
                continue
            if sheet_kind in seen:
                upload.problems.append(Problem(
                    code="duplicate_sheet", sheet=title, kind=sheet_kind.value,
                    message=MESSAGES["duplicate_sheet"].format(title=seen[sheet_kind])))
                continue
            seen[sheet_kind] = title
            records = (_xlsx_record(row) for row in worksheet.iter_rows())
            sheet = _read_records(records, SPECS[sheet_kind], title, upload, max_rows)
            upload.sheets.append(sheet)
    except (Unprocessable, PayloadTooLarge):
        raise
    except Exception as error:  # a damaged sheet part surfaces only while it is read
        raise Unprocessable(MESSAGES["xlsx"].format(error=type(error).__name__)) from None
    finally:
        workbook.close()
    return upload


class Formula(str):
    """A cell holding a formula: reported, never evaluated."""

    __slots__ = ()


def _xlsx_record(row: Iterable[Any]) -> list[str]:
    texts: list[str] = []
    for cell in row:
        if getattr(cell, "data_type", None) == "f":
            texts.append(Formula(str(cell.value)))
        else:
            texts.append(cell_text(getattr(cell, "value", None)))
    return texts


def cell_text(value: Any) -> str:
    """A cell's value as text: numbers typed into a code column come back as digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def decode_csv(data: bytes) -> str:
    """UTF-8 (a BOM, which Excel writes, is dropped) or else GB18030, a superset of the GBK
    that Excel on Chinese Windows saves "CSV (逗号分隔)" in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Unprocessable(MESSAGES["encoding"]) from None


def _read_csv(data: bytes, *, kind: ImportKind, max_rows: int) -> Upload:
    text = decode_csv(data)
    upload = Upload()
    try:
        records = csv.reader(io.StringIO(text, newline=""))
        upload.sheets.append(_read_records(records, SPECS[kind], None, upload, max_rows))
    except csv.Error as error:
        raise Unprocessable(MESSAGES["csv"].format(error=error)) from None
    return upload


def _normal_header(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().rstrip("*").strip().lower()


def _read_records(records: Iterator[list[str]], spec: KindSpec, title: str | None,
                  upload: Upload, max_rows: int) -> Sheet:
    """Map the header (row 1) to keys, skip the key row and blank rows, keep the rest;
    refuse more than `max_rows` data rows in the whole upload."""
    sheet = Sheet(spec=spec, title=title)
    header = next(records, None)
    if header is None or not any(header):
        upload.problems.append(sheet.problem("no_header", MESSAGES["no_header"], row=1))
        return sheet
    names = {_normal_header(c.label): c.key for c in spec.columns}
    names.update({c.key: c.key for c in spec.columns})
    for index, text in enumerate(header):
        if not text:
            continue  # an unlabelled column (remarks, say) is not read
        key = names.get(_normal_header(text))
        if key is None:
            upload.problems.append(sheet.problem(
                "unknown_column", MESSAGES["unknown_column"].format(text=text), row=1,
                value=text, index=index))
        elif key in sheet.positions:
            upload.problems.append(sheet.problem(
                "duplicate_column", MESSAGES["duplicate_column"].format(text=text), row=1,
                value=text, index=index))
        else:
            sheet.positions[key] = index
    for column in spec.columns:
        if column.required and column.key not in sheet.positions:
            upload.problems.append(sheet.problem(
                "missing_column", MESSAGES["missing_column"].format(header=column.label),
                row=1, key=column.key))
    for number, record in enumerate(records, start=2):
        cells = {key: (record[i] if i < len(record) else "") for key, i in sheet.positions.items()}
        if not any(cells.values()):
            continue
        if number == 2 and all(v.lower() == k for k, v in cells.items() if v):
            continue  # the template's row of English keys
        if upload.row_count + len(sheet.rows) >= max_rows:
            raise Unprocessable(MESSAGES["too_many_rows"].format(limit=max_rows))
        row = Row(number, {k: v.strip() for k, v in cells.items()})
        for key, value in cells.items():
            if isinstance(value, Formula):
                row.formulas.add(key)
                upload.problems.append(sheet.problem("formula", MESSAGES["formula"],
                                                     row=number, key=key, value=value))
        sheet.rows.append(row)
    return sheet


# --- templates --------------------------------------------------------------------------------


def csv_template(kind: ImportKind) -> bytes:
    """The header row (Chinese, * for required) and the row of English keys; UTF-8 with a BOM
    so that Excel opens it as UTF-8."""
    spec = SPECS[kind]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([c.header for c in spec.columns])
    writer.writerow([c.key for c in spec.columns])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def xlsx_template() -> bytes:
    """The notes sheet, then one sheet per kind: headers with comments (the column's notes),
    the key row, code columns formatted as text, drop-down lists for the fixed choices."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = NOTES_SHEET
    _write_notes(notes)
    bold, grey = Font(bold=True), Font(italic=True, color="808080")
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for spec in SPECS.values():
        sheet = workbook.create_sheet(spec.sheet)
        for index, column in enumerate(spec.columns, start=1):
            letter = get_column_letter(index)
            head = sheet.cell(row=1, column=index, value=column.header)
            head.font = bold
            if column.required:
                head.fill = required_fill
            head.comment = Comment(f"{column.key}：{column.note}", "bihuan", width=260, height=90)
            sheet.cell(row=2, column=index, value=column.key).font = grey
            sheet.column_dimensions[letter].width = max(14, len(column.label) * 2 + 4)
            if column.text:
                for row in range(3, 1003):
                    sheet.cell(row=row, column=index).number_format = "@"
            if column.choices:
                validation = DataValidation(type="list", allow_blank=True,
                                            formula1='"' + ",".join(column.choices) + '"')
                validation.add(f"{letter}3:{letter}10000")
                sheet.add_data_validation(validation)
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _write_notes(notes: Any) -> None:
    notes.column_dimensions["A"].width = 26
    notes.column_dimensions["B"].width = 22
    notes.column_dimensions["C"].width = 8
    notes.column_dimensions["D"].width = 70
    notes.append(["导入说明"])
    notes["A1"].font = Font(bold=True, size=14)
    for line in NOTES:
        notes.append([line])
    for spec in SPECS.values():
        notes.append([])
        notes.append([f"工作表「{spec.sheet}」（{spec.kind.value}）"])
        notes.cell(row=notes.max_row, column=1).font = Font(bold=True)
        notes.append(["表头", "英文列名", "必填", "说明", "示例"])
        for column, example in zip(spec.columns, spec.example, strict=True):
            notes.append([column.label, column.key, "是" if column.required else "",
                          column.note, example])
    for row in notes.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
