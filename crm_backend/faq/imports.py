"""FAQ import and export files: a JSON list of articles, or CSV with the same columns.

In CSV, `alternatives` and `tags` hold several values separated by "|". Rows are numbered
from 1 in both formats (the CSV header is not a row), and every error names its row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from crm_backend.core.errors import DomainError
from crm_backend.faq.schemas import ArticleImport

COLUMNS = ("id", "question", "answer", "alternatives", "tags")
LIST_COLUMNS = ("alternatives", "tags")
SEPARATOR = "|"
MAX_ROWS = 5000
_BLANK_MEANS_MISSING = ("id", "question", "answer")
_EXTRA = "__extra_values__"


class InvalidImport(DomainError):
    status_code = 422
    error = "invalid_import"


class UnsupportedImportType(DomainError):
    status_code = 415
    error = "unsupported_media_type"


def parse(body: bytes, content_type: str) -> list[ArticleImport]:
    """The articles in an upload; raises InvalidImport naming the first bad row."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    # The type first: a spreadsheet or PDF upload is the wrong format (415), not bad text.
    if media_type not in ("application/json", "text/csv"):
        raise UnsupportedImportType("Send the articles as application/json or text/csv.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidImport("The file is not UTF-8 text.") from exc
    records = _json_records(text) if media_type == "application/json" else _csv_records(text)
    if not records:
        raise InvalidImport("The file holds no articles.")
    if len(records) > MAX_ROWS:
        raise InvalidImport(f"At most {MAX_ROWS} articles per import.")
    return [_validate(number, record) for number, record in enumerate(records, start=1)]


def _json_records(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidImport(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from exc
    except (ValueError, RecursionError) as exc:  # absurd numbers or nesting
        raise InvalidImport("Not valid JSON.") from exc
    if not isinstance(data, list):
        raise InvalidImport("Expected a JSON list of articles.")
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise InvalidImport(f"row {number}: expected an object with question and answer.")
    return data


def _csv_records(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA)
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise InvalidImport(f"Unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}.")
        if "question" not in header or "answer" not in header:
            raise InvalidImport("The CSV header needs at least the columns question and answer.")
        reader.fieldnames = header
        records = []
        for number, row in enumerate(reader, start=1):
            if _EXTRA in row:
                raise InvalidImport(f"row {number}: more values than columns.")
            records.append(_from_csv_row(row))
    except csv.Error as exc:
        raise InvalidImport(f"Not valid CSV: {exc}.") from exc
    return records


def _from_csv_row(row: dict[str, str | None]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, value in row.items():
        text = value or ""
        if name in LIST_COLUMNS:
            record[name] = [part.strip() for part in text.split(SEPARATOR) if part.strip()]
        elif name == "id":
            record[name] = text.strip()
        else:
            # Taken as written, as in JSON (an answer may end in a newline): an export
            # imports back unchanged.
            record[name] = text
    return record


def _validate(number: int, record: dict[str, Any]) -> ArticleImport:
    # A blank id, question or answer is a missing one, in JSON as in an empty CSV cell.
    record = {
        key: value
        for key, value in record.items()
        if not (
            key in _BLANK_MEANS_MISSING and (value is None or (isinstance(value, str) and not value.strip()))
        )
    }
    try:
        return ArticleImport.model_validate(record)
    except ValidationError as exc:
        raise InvalidImport(f"row {number}: {_first_problem(exc)}") from exc


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error.get("loc", ())) or "row"
    if error.get("type") == "missing":
        return f"{field} is required"
    if error.get("type") == "extra_forbidden":
        return f"unknown field {field!r}"
    return f"{field}: {error.get('msg', 'invalid value')}"


def to_csv(articles: Sequence[ArticleImport]) -> str:
    """Articles as CSV, in the format parse() reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for article in articles:
        writer.writerow(
            [
                article.id or "",
                article.question,
                article.answer,
                SEPARATOR.join(article.alternatives),
                SEPARATOR.join(article.tags),
            ]
        )
    return out.getvalue()
