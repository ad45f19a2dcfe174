"""Read JSON Lines (one object per line) or one JSON document into a RawBatch.

Every value becomes a string as written in the file: numbers keep their token text,
booleans are "true"/"false", null stays null, nested objects and arrays are compact
JSON text. Columns are the union of keys in first-seen order; a missing key is null.

``document=False`` (format ``jsonl``): an empty file is zero records.
``document=True`` (format ``json``): the file must hold a JSON value, so an empty file
is a FileReject. Both accept either layout (lines, or one object / array of objects).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, FileReject, RawBatch, RecordReject
from tidegate.sources._text import FileInfo, decode_text

_JSON_WHITESPACE = " \t\r\n"


class RawNumber(str):
    """A JSON number kept as the exact text it was written with."""

    __slots__ = ()


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not allowed in JSON")


def _loads(text: str) -> Any:
    return json.loads(
        text, parse_int=RawNumber, parse_float=RawNumber, parse_constant=_reject_constant
    )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, RawNumber):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null"


def _compact(value: Any) -> str:
    """Compact JSON text for a parsed value, numbers exactly as written."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    parts: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            parts.append(json.dumps(key, ensure_ascii=False) + ":" + _compact(item))
        return "{" + ",".join(parts) + "}"
    for item in value:
        parts.append(_compact(item))
    return "[" + ",".join(parts) + "]"


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)  # a RawNumber becomes a plain str
    return _compact(value)


def _error_reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "cannot read JSON: nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at column {exc.colno}"
    return f"not valid JSON: {exc}"


class _Collector:
    """Gathers records (as string dicts) and record rejects in order."""

    def __init__(self, columns: dict[str, None] | None = None) -> None:
        self.records: list[dict[str, str | None]] = []
        self.numbers: list[int] = []
        self.rejects: list[RecordReject] = []
        # the keys seen, in first-seen order (shared between the chunks of a stream)
        self.columns: dict[str, None] = {} if columns is None else columns

    def add(self, number: int, value: Any, raw: str, *, escapes: bool) -> None:
        """Add one parsed value; ``escapes`` says the source text had \\u escapes."""
        if not isinstance(value, dict):
            reason = f"not a JSON object: got {_kind(value)}"
            self.rejects.append(RecordReject(number, raw, reason))
            return
        try:
            record = {_column_name(k): _as_text(v) for k, v in value.items()}
            if escapes:  # \u escapes can produce lone surrogates, which are not text
                for text in (*record.keys(), *record.values()):
                    if text is not None:
                        text.encode("utf-8")
        except RecursionError as exc:
            self.rejects.append(RecordReject(number, raw, _error_reason(exc)))
            return
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end].encode("utf-8", "backslashreplace")
            reason = f"not valid Unicode text: unpaired surrogate {bad.decode('ascii')}"
            self.rejects.append(RecordReject(number, raw, reason))
            return
        self.records.append(record)
        self.numbers.append(number)
        columns = self.columns
        for key in record:
            if key not in columns:
                columns[key] = None

    @property
    def count(self) -> int:
        """Records added: objects and rejects."""
        return len(self.records) + len(self.rejects)

    def frame(self) -> pl.DataFrame:
        columns = list(self.columns)
        data: dict[str, list[str | None] | list[int]] = {
            name: [record.get(name) for record in self.records] for name in columns
        }
        data[RECORD_COLUMN] = self.numbers
        schema: dict[str, pl.DataType] = {name: pl.String() for name in columns}
        schema[RECORD_COLUMN] = pl.Int64()
        return pl.DataFrame(data, schema=schema)


def _column_name(key: str) -> str:
    return f"{RECORD_COLUMN}_2" if key == RECORD_COLUMN else key


def read_json_bytes(
    data: bytes, info: FileInfo, *, encoding: str = "utf-8", document: bool = False
) -> RawBatch | FileReject:
    """Read JSON Lines, or one JSON document, into a RawBatch (FileReject if unreadable)."""
    fmt = "json" if document else "jsonl"
    text = decode_text(data, encoding, info, "JSON")
    if isinstance(text, FileReject):
        return text
    records = parse_json_text(text, document=document)
    if isinstance(records, str):
        return info.reject(data, records)
    return _batch(info, records, fmt)


def parse_json_text(text: str, *, document: bool) -> _Collector | str:
    """The records of a whole decoded text (JSON Lines, or one JSON document), or the
    reason the file cannot be read at all."""
    content = text.strip(_JSON_WHITESPACE)
    if content == "" and document:
        return (
            "not valid JSON: the file holds no JSON value; if it is JSON Lines and may be "
            "empty, declare `format: jsonl`"
        )
    records = _Collector()
    doc_error: Exception | None = None
    if content[:1] in ("[", "{"):
        try:
            value = _loads(text)
        except (ValueError, RecursionError) as exc:
            doc_error = exc
        else:
            _add_document(records, text, value)
            return records
    _add_lines(records, text)
    if not records.records and _spans_lines(doc_error, text):
        assert isinstance(doc_error, json.JSONDecodeError)
        return (
            f"not valid JSON: {doc_error.msg} at line {doc_error.lineno} column "
            f"{doc_error.colno} (neither one JSON document nor JSON Lines)"
        )
    return records


def _spans_lines(error: Exception | None, text: str) -> bool:
    """True when a document that starts on one line breaks on a later one."""
    if not isinstance(error, json.JSONDecodeError) or error.msg == "Extra data":
        return False
    first_line = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    return error.lineno > text.count("\n", 0, first_line) + 1


def _add_document(records: _Collector, text: str, value: Any) -> None:
    escapes = "\\u" in text
    if isinstance(value, list):
        for offset, item in enumerate(value):
            records.add(offset, item, _raw_json(item), escapes=escapes)
        return
    start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    number = text.count("\n", 0, start) + 1
    records.add(number, value, text.strip(_JSON_WHITESPACE), escapes=escapes)


def _raw_json(value: Any) -> str:
    """Compact JSON for an array element; lone surrogates shown as \\udXXX escapes."""
    try:
        raw = _compact(value)
    except RecursionError:
        return "<nested too deeply to show>"
    return raw.encode("utf-8", "backslashreplace").decode("utf-8")


def _add_lines(records: _Collector, text: str) -> None:
    for index, line in enumerate(text.split("\n")):
        if line.strip(_JSON_WHITESPACE) != "":
            add_line(records, index + 1, line)


def add_line(records: _Collector, number: int, line: str) -> None:
    """One non-blank line of JSON Lines (without its "\\n"): a record or a reject."""
    raw = line.removesuffix("\r")
    try:
        value = _loads(line)
    except (ValueError, RecursionError) as exc:
        records.rejects.append(RecordReject(number, raw, _error_reason(exc)))
        return
    records.add(number, value, raw, escapes="\\u" in line)


def _batch(info: FileInfo, records: _Collector, fmt: str) -> RawBatch:
    return RawBatch(
        source=info.source,
        location=info.location,
        content_sha256=info.content_sha256 or "",
        frame=records.frame(),
        rejects=tuple(records.rejects),
        fmt=fmt,
    )
