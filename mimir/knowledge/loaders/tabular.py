"""CSV: one block per data row, written as ``column: value`` pairs so each row reads on its own.

Rows are numbered from 1 for the first data row (the header is row 0). Cells that a spreadsheet
would run as a formula (``=``, ``+``, ``-``, ``@``, tab or CR first, unless the cell is a plain
number) are neutralised with a leading quote and flagged, or the file is refused, per
``knowledge.csv_formulas``: chunks end up in datasets people open in spreadsheets.
"""

from __future__ import annotations

import csv
import io
import re

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document, TextBuilder
from mimir.knowledge.loaders._common import decode_text

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")
MAX_FIELD_CHARS = 100_000


def is_formula(cell: str) -> bool:
    return cell.startswith(_FORMULA_START) and not _NUMBER.match(cell.strip())


def load_csv(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    text = decode_text(data, name)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_limit = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        rows = _read_rows(reader, name, config.max_csv_rows)
    except csv.Error as exc:
        raise InputFileError(f"{name}: malformed CSV at line {reader.line_num} ({exc})") from None
    finally:
        csv.field_size_limit(previous_limit)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise InputFileError(f"{name}: needs a header row and at least one data row")
    header = _header(rows[0])
    builder = TextBuilder()
    warnings: list[str] = []
    for number, row in enumerate(rows[1:], 1):
        pairs = []
        for column, cell in enumerate(row):
            cell = cell.strip()
            if not cell:
                continue
            label = header[column] if column < len(header) else f"column_{column + 1}"
            if is_formula(cell):
                if config.csv_formulas == "reject":
                    raise InputFileError(
                        f"{name}: row {number}, column {label!r} holds a spreadsheet formula ({cell[:30]!r}); "
                        "remove it or set knowledge.csv_formulas to 'neutralise'"
                    )
                warnings.append(f"row {number}, column {label!r}: formula-like cell neutralised")
                cell = "'" + cell
            pairs.append(f"{label}: {cell}")
        builder.add("; ".join(pairs), kind="row", row=number)
    return Document(name=name, format="csv", text=builder.text, blocks=builder.blocks, warnings=warnings,
                    meta={"columns": header, "rows": len(rows) - 1})


def _read_rows(reader, name: str, limit: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) > limit + 1:  # + header
            raise InputFileError(
                f"{name}: more than {limit} rows (knowledge.max_csv_rows); split the file or raise the limit"
            )
    return rows


def _header(cells: list[str]) -> list[str]:
    """Column labels: blanks become column_N, duplicates get a suffix, formulas are defused."""
    seen: dict[str, int] = {}
    labels = []
    for index, cell in enumerate(cells, 1):
        label = re.sub(r"\s+", " ", cell).strip() or f"column_{index}"
        if is_formula(label):
            label = "'" + label
        if label in seen:
            seen[label] += 1
            label = f"{label}_{seen[label]}"
        else:
            seen[label] = 1
        labels.append(label)
    return labels
