"""A file that is not text in its declared encoding is rejected with where its first bad
byte is (offset, line), never the bytes themselves: they may be personal data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidegate.cli import app
from tidegate.sources import FileReject, FileSource
from tidegate.sources._csv import CsvOptions, read_csv_bytes
from tidegate.sources._jsonl import read_json_bytes
from tidegate.sources._text import FileInfo

# a latin-1 file: "Zoë" is the name of a person, read as UTF-8
LATIN1 = "id,name,state\n1,Zoë Müller,CA\n".encode("latin-1")
LEAKS = ("\\xeb", "xeb", "Mu", "ller", ",CA", "Zo")


def _no_bytes(reason: str) -> None:
    assert "at byte offset 18 (line 2," in reason, reason
    assert not any(leak in reason for leak in LEAKS), reason


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_streamed_file_reject_says_where_not_what(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"people.{fmt}"
    path.write_bytes(LATIN1 if fmt == "csv" else b'{"id": 1}\n{"name": "Zo\xeb"}\n')
    (batch,) = FileSource("people", path).read()
    reject = batch.collect()
    assert isinstance(reject, FileReject)
    if fmt == "csv":
        _no_bytes(reject.reason)
    else:
        assert "at byte offset 22 (line 2," in reject.reason and "xeb" not in reject.reason


def test_a_whole_file_reject_says_where_not_what() -> None:
    info = FileInfo("people", "people.csv", "0" * 64)
    for item in (
        read_csv_bytes(LATIN1, info, CsvOptions()),
        read_json_bytes(b'{"id": 1}\n{"name": "Zo\xeb Mu"}\n', info),
    ):
        assert isinstance(item, FileReject)
        assert "at byte offset" in item.reason and "(line 2," in item.reason
        assert "xeb" not in item.reason and "Mu" not in item.reason


def test_run_prints_no_bytes_of_a_rejected_file(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "schemas").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "people.csv").write_bytes(LATIN1)
    (tmp_path / "schemas" / "people.yaml").write_text(
        "source: people\nversion: 1\ncolumns:\n  id: {type: int64}\n  name: {type: string}\n"
        "  state: {type: string}\n"
    )
    (tmp_path / "pipelines" / "people.yaml").write_text(
        "name: people\nsource: {kind: file, path: data/people.csv}\ncontract: schemas/people.yaml\n"
    )
    result = CliRunner().invoke(
        app, ["run", "people", "--project", str(tmp_path), "--store", str(tmp_path / "s.duckdb")]
    )
    out = " ".join(result.output.split())
    assert "byte offset 18" in out, out
    assert not any(leak in out for leak in LEAKS), out
