"""FileSource, source_from_config, MemorySource and the Source protocol."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tidegate.errors import SourceConfigError
from tidegate.sources import (
    RECORD_COLUMN,
    FileBatch,
    FileReject,
    FileSource,
    FileUnreadableError,
    LocalFileBatch,
    MemorySource,
    RawBatch,
    Source,
    source_from_config,
)

WriteFile = Callable[[str, bytes], Path]


def test_glob_reads_files_sorted_by_name(tmp_path: Path, write_file: WriteFile) -> None:
    write_file("orders/b.csv", b"id\n2\n")
    write_file("orders/a.csv", b"id\n1\n")
    write_file("orders/c.csv", b"id\n3\n\xff\n")
    write_file("orders/notes.md", b"not matched")
    batches = list(FileSource("orders", "orders/*.csv", base_dir=tmp_path).read())
    assert [Path(item.location).name for item in batches] == ["a.csv", "b.csv", "c.csv"]
    assert all(isinstance(item, FileBatch) for item in batches)
    items = [batch.collect() for batch in batches]
    first, second, third = items
    assert isinstance(first, RawBatch) and isinstance(second, RawBatch)
    assert first.frame["id"].to_list() == ["1"] and second.frame["id"].to_list() == ["2"]
    assert first.source == "orders"
    assert first.content_sha256 == hashlib.sha256(b"id\n1\n").hexdigest()
    assert isinstance(third, FileReject)  # one bad file does not stop the others
    assert third.content_sha256 == hashlib.sha256(b"id\n3\n\xff\n").hexdigest()


def test_glob_matching_nothing_names_glob_and_directory(tmp_path: Path) -> None:
    (tmp_path / "orders").mkdir()
    source = FileSource("orders", "orders/*.csv", base_dir=tmp_path)
    with pytest.raises(SourceConfigError) as info:
        list(source.read())
    message = str(info.value)
    assert "'orders/*.csv'" in message and str(tmp_path / "orders") in message


def test_missing_file_and_directory_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError, match="does not exist"):
        FileSource("x", tmp_path / "nope.csv").files()
    with pytest.raises(SourceConfigError, match=r"is a directory.*\*\.csv"):
        FileSource("x", tmp_path).files()


def test_format_from_extension(tmp_path: Path, write_file: WriteFile) -> None:
    write_file("d/1.tsv", b"a\tb\n1\t2\n")
    write_file("d/2.jsonl", b'{"a": 1}\n')
    write_file("d/3.json", b'[{"a": 2}]')
    buffer = io.BytesIO()
    pl.DataFrame({"a": [3]}).write_parquet(buffer)
    write_file("d/4.parquet", buffer.getvalue())
    items = [batch.collect() for batch in FileSource("mixed", "d/*", base_dir=tmp_path).read()]
    assert [item.fmt for item in items if isinstance(item, RawBatch)] == [
        "csv",
        "jsonl",
        "json",
        "parquet",
    ]
    assert [item.frame["a"].to_list() for item in items if isinstance(item, RawBatch)] == [
        ["1"],
        ["1"],
        ["2"],
        ["3"],
    ]


def test_unknown_extension_is_a_config_error_before_any_read(
    tmp_path: Path, write_file: WriteFile
) -> None:
    write_file("d/a.csv", b"a\n1\n")
    write_file("d/b.xlsx", b"PK")
    source = FileSource("x", "d/*", base_dir=tmp_path)
    with pytest.raises(SourceConfigError, match=r"'\.xlsx'.*format"):
        next(iter(source.read()))


def test_declared_format_overrides_extension(write_file: WriteFile) -> None:
    path = write_file("export.dat", b"a|b\n1|2\n")
    (file,) = FileSource("x", path, format="csv", delimiter="|").read()
    batch = file.collect()
    assert isinstance(batch, RawBatch)
    assert batch.frame.rows() == [("1", "2", 2)]


def test_unreadable_file_is_a_file_reject(tmp_path: Path) -> None:
    path = tmp_path / "gone.csv"
    path.write_bytes(b"a\n")
    source = FileSource("x", path)
    files = source.files()
    path.unlink()
    item = source.read_file(*files[0])
    assert isinstance(item, FileReject) and item.content_sha256 is None
    assert "cannot read" in item.reason
    with pytest.raises(FileUnreadableError, match="cannot read the file") as info:
        list(source.batch(*files[0]).chunks())
    assert info.value.reject == item


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"format": "xlsx"}, r"format 'xlsx'.*csv, tsv, jsonl, json, parquet"),
        ({"delimiter": ""}, r"delimiter ''"),
        ({"encoding": "klingon"}, r"encoding 'klingon'"),
    ],
)
def test_bad_options_fail_at_construction(options: dict[str, Any], match: str) -> None:
    with pytest.raises(SourceConfigError, match=match):
        FileSource("x", "*.csv", **options)


def test_source_from_config(tmp_path: Path, write_file: WriteFile) -> None:
    write_file("sample_data/orders/1.csv", "id;name\n1;Zoë\n".encode("latin-1"))
    config = {
        "kind": "file",
        "path": "sample_data/orders/*.csv",
        "format": "csv",
        "delimiter": ";",
        "encoding": "latin-1",
    }
    source = source_from_config("orders", config, tmp_path)
    assert isinstance(source, Source) and source.name == "orders"
    (file,) = source.read()
    batch = file.collect()
    assert isinstance(batch, RawBatch)
    assert batch.frame.rows() == [("1", "Zoë", 2)]


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"kind": "ftp", "path": "x"}, r"kind is 'ftp'; valid kinds: file"),
        ({"path": "x"}, r"kind is missing; valid kinds: file"),
        ({"kind": "file", "path": "x", "sep": ","}, r"unknown option 'sep'.*delimiter"),
        ({"kind": "file"}, r"`path` is missing"),
        ({"kind": "file", "path": "x", "has_header": "yes"}, r"has_header.*true/false"),
        ({"kind": "file", "path": "x", "chunk_size": 1.5}, r"chunk_size.*integer or a string"),
        ({"kind": "file", "path": "x", "chunk_size": "lots"}, r"chunk_size 'lots'.*'64MB'"),
        ({"kind": "file", "path": "x", "chunk_size": 0}, r"chunk_size 0 is not valid"),
    ],
)
def test_bad_config_names_what_is_valid(config: dict[str, object], match: str) -> None:
    with pytest.raises(SourceConfigError, match=match):
        source_from_config("orders", config, Path("."))


def test_memory_source_from_records() -> None:
    records: list[dict[str, str | None]] = [{"a": "1", "b": None}, {"c": "x", "a": "2"}]
    source = MemorySource.from_records("orders", records)
    assert isinstance(source, Source)
    (batch,) = source.read()
    assert isinstance(batch, RawBatch)
    assert batch.location == "memory" and batch.source == "orders"
    assert batch.frame.columns == ["a", "b", "c", RECORD_COLUMN]
    assert batch.frame.rows() == [("1", None, None, 1), ("2", None, "x", 2)]
    assert batch.frame.schema["b"] == pl.String
    same = MemorySource.from_records("orders", [dict(r) for r in records])
    assert next(iter(same.read())).content_sha256 == batch.content_sha256
    changed = MemorySource.from_records("orders", [{"a": "1"}])
    assert next(iter(changed.read())).content_sha256 != batch.content_sha256


def test_memory_source_yields_items_in_order_every_time() -> None:
    reject = FileReject("s", "bad.csv", None, "cannot read")
    (batch,) = MemorySource.from_records("s", [{"a": "1"}]).read()
    source = MemorySource("s", [batch, reject])
    assert list(source.read()) == [batch, reject]
    assert list(source.read()) == [batch, reject]


def test_memory_source_refuses_non_string_values() -> None:
    with pytest.raises(TypeError, match="strings or None"):
        MemorySource.from_records("s", [{"a": 1}])  # type: ignore[dict-item]


def test_glob_chars_in_base_dir_are_literal(tmp_path: Path) -> None:
    base = tmp_path / "run[1]"
    (base / "in").mkdir(parents=True)
    (base / "in" / "a.csv").write_bytes(b"x\n1\n")
    (batch,) = FileSource("x", "in/*.csv", base_dir=base).read()
    assert isinstance(batch, LocalFileBatch) and batch.location == str(base / "in" / "a.csv")


def test_recursive_glob(tmp_path: Path, write_file: WriteFile) -> None:
    write_file("data/2024/01/a.jsonl", b'{"a": "1"}\n')
    write_file("data/2024/02/b.jsonl", b'{"a": "2"}\n')
    items = list(FileSource("x", "data/**/*.jsonl", base_dir=tmp_path).read())
    assert [Path(i.location).name for i in items] == ["a.jsonl", "b.jsonl"]
