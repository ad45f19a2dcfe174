"""The JSON Lines / JSON document reader."""

from __future__ import annotations

import time

import pytest

from tidegate.sources import RECORD_COLUMN, FileReject, RawBatch, RecordReject
from tidegate.sources._jsonl import read_json_bytes
from tidegate.sources._text import FileInfo

INFO = FileInfo("events", "events.jsonl", "0" * 64)


def read(data: bytes, *, document: bool = False, encoding: str = "utf-8") -> RawBatch:
    batch = read_json_bytes(data, INFO, encoding=encoding, document=document)
    assert isinstance(batch, RawBatch), batch
    return batch


def test_values_become_strings_as_written() -> None:
    line = (
        b'{"id": 750e-1, "n": -0, "big": 123456789012345678901234567890, "ok": true,'
        b' "no": false, "none": null, "s": "x\\"y", "nested": {"a": [1, 2.0, "\xc3\xa9"]}}\n'
    )
    batch = read(line)
    assert batch.frame.drop(RECORD_COLUMN).to_dicts() == [
        {
            "id": "750e-1",
            "n": "-0",
            "big": "123456789012345678901234567890",
            "ok": "true",
            "no": "false",
            "none": None,
            "s": 'x"y',
            "nested": '{"a":[1,2.0,"é"]}',
        }
    ]
    assert batch.rejects == ()


def test_number_tokens_kept_exactly() -> None:
    batch = read(b'{"a": 1.50, "b": 1E400, "c": -0.0e-0, "d": [1.0, 2e3]}\n')
    assert batch.frame.row(0) == ("1.50", "1E400", "-0.0e-0", "[1.0,2e3]", 1)


def test_columns_are_union_in_first_seen_order_and_missing_is_null() -> None:
    batch = read(b'{"a": "1", "b": "2"}\n{"c": "3", "a": "4"}\n')
    assert batch.frame.columns == ["a", "b", "c", RECORD_COLUMN]
    assert batch.frame.rows() == [("1", "2", None, 1), ("4", None, "3", 2)]


def test_bad_lines_are_record_rejects_with_line_numbers() -> None:
    data = b'{"a": 1}\n\n{"a": 2,, "b": 3}\n[1, 2]\n"text"\n{"a": NaN}\n  \n{"a": 3}\r\n'
    batch = read(data)
    assert batch.frame.rows() == [("1", 1), ("3", 8)]
    assert [(r.record, r.raw) for r in batch.rejects] == [
        (3, '{"a": 2,, "b": 3}'),
        (4, "[1, 2]"),
        (5, '"text"'),
        (6, '{"a": NaN}'),
    ]
    reasons = [r.reason for r in batch.rejects]
    assert (
        reasons[0]
        == "not valid JSON: Expecting property name enclosed in double quotes at column 9"
    )
    assert reasons[1:3] == ["not a JSON object: got array", "not a JSON object: got string"]
    assert "NaN" in reasons[3]


def test_whole_file_array_of_objects_uses_offsets() -> None:
    batch = read(b'[\n  {"a": 1},\n  {"b": true},\n  3\n]\n')
    assert batch.frame.rows() == [("1", None, 0), (None, "true", 1)]
    assert batch.rejects == (RecordReject(2, "3", "not a JSON object: got number"),)


def test_pretty_printed_single_object_is_one_record() -> None:
    batch = read(b'\n{\n  "a": "x",\n  "b": [1, {"c": null}]\n}\n', document=True)
    assert batch.frame.rows() == [("x", '[1,{"c":null}]', 2)]


def test_broken_pretty_printed_document_is_a_file_reject() -> None:
    item = read_json_bytes(b'[\n  {"a": 1},\n  {"b": 2\n]\n', INFO, document=True)
    assert isinstance(item, FileReject)
    assert "line 4" in item.reason and "not valid JSON" in item.reason


def test_empty_jsonl_is_empty_but_empty_json_document_is_rejected() -> None:
    empty = read(b"\n \n")
    assert empty.frame.height == 0 and empty.rejects == ()
    item = read_json_bytes(b"", INFO, document=True)
    assert isinstance(item, FileReject) and "format: jsonl" in item.reason


def test_deep_nesting_is_a_reject_not_a_crash() -> None:
    started = time.perf_counter()
    batch = read(b"[" * 100_000 + b"\n" + b'{"a": ' * 50_000 + b"\n")
    assert time.perf_counter() - started < 5
    assert [r.record for r in batch.rejects] == [1, 2]
    assert all("nested too deeply" in r.reason for r in batch.rejects)


def test_lone_surrogate_escape_is_a_record_reject() -> None:
    batch = read(b'{"a": "\\ud800"}\n{"a": "\\ud83d\\ude00"}\n')
    assert batch.frame.rows() == [("\U0001f600", 2)]
    assert batch.rejects[0].record == 1 and "surrogate" in batch.rejects[0].reason


def test_undecodable_bytes_are_a_file_reject() -> None:
    item = read_json_bytes(b'{"a": "\xff"}\n', INFO)
    assert isinstance(item, FileReject) and "utf-8" in item.reason


def test_declared_encoding() -> None:
    batch = read('{"city": "Zürich"}\n'.encode("latin-1"), encoding="latin-1")
    assert batch.frame["city"].to_list() == ["Zürich"]


def test_reserved_key_is_renamed() -> None:
    batch = read(b'{"_tidegate_record": "x"}\n')
    assert batch.frame.columns == ["_tidegate_record_2", RECORD_COLUMN]


@pytest.mark.parametrize("document", [False, True])
def test_fmt_names_the_format(document: bool) -> None:
    assert read(b'{"a": 1}', document=document).fmt == ("json" if document else "jsonl")
