"""LandingFolderSource: settled files only, temp files ignored, committed files skipped."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from helpers import make_contract
from tidegate.errors import SourceConfigError
from tidegate.sources import FileReject, LandingFolderSource, RawBatch, source_from_config


def names(source: LandingFolderSource) -> list[str]:
    return [Path(item.location).name for item in source.read()]


def age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_file_being_written_is_left_until_it_settles(tmp_path: Path) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    done = landing / "a.csv"
    done.write_text("id\n1\n")
    age(done, 10)
    growing = landing / "b.csv"
    source = LandingFolderSource("orders", landing, settle_seconds=0.5)
    with growing.open("w") as handle:
        handle.write("id\n")
        handle.flush()
        for value in range(3):  # the writer keeps appending: never picked up meanwhile
            assert names(source) == ["a.csv"]
            assert [(p.name, "settle_seconds" in why) for p, why in source.skipped] == [
                ("b.csv", True)
            ]
            handle.write(f"{value}\n")
            handle.flush()
            time.sleep(0.2)
    time.sleep(0.6)  # the writer is done; after settle_seconds the file is picked up
    items = [file.collect() for file in source.read()]
    assert [Path(i.location).name for i in items] == ["a.csv", "b.csv"]
    assert isinstance(items[1], RawBatch) and items[1].frame["id"].to_list() == ["0", "1", "2"]
    assert source.skipped == []


def test_temp_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv.part", "c.csv.tmp", "d.csv.crdownload", ".e.csv"):
        (tmp_path / name).write_text("id\n1\n")
        age(tmp_path / name, 10)
    source = LandingFolderSource("orders", tmp_path, pattern="*", settle_seconds=1)
    assert names(source) == ["a.csv"]
    assert sorted(p.name for p, _ in source.skipped) == [
        ".e.csv",
        "b.csv.part",
        "c.csv.tmp",
        "d.csv.crdownload",
    ]


def test_empty_folder_yields_nothing_and_missing_folder_is_an_error(tmp_path: Path) -> None:
    assert list(LandingFolderSource("x", tmp_path).read()) == []
    with pytest.raises(SourceConfigError, match="does not exist"):
        list(LandingFolderSource("x", tmp_path / "nope").read())


def test_unreadable_file_is_a_file_reject(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b"id\n\xff\n")
    age(tmp_path / "bad.csv", 10)
    (file,) = LandingFolderSource("x", tmp_path).read()
    assert isinstance(file.collect(), FileReject)


def test_config(tmp_path: Path) -> None:
    (tmp_path / "drop").mkdir()
    source = source_from_config(
        "orders",
        {"kind": "landing", "folder": "drop", "pattern": "*.tsv", "settle_seconds": 5},
        tmp_path,
    )
    assert isinstance(source, LandingFolderSource)
    assert source.folder == tmp_path / "drop" and source.settle_seconds == 5
    with pytest.raises(SourceConfigError, match=r"unknown option 'path'.*folder, pattern"):
        source_from_config("o", {"kind": "landing", "path": "x"}, tmp_path)
    with pytest.raises(SourceConfigError, match="`folder` is missing"):
        source_from_config("o", {"kind": "landing"}, tmp_path)
    with pytest.raises(SourceConfigError, match="settle_seconds"):
        source_from_config("o", {"kind": "landing", "folder": "d", "settle_seconds": -1}, tmp_path)


def test_committed_files_are_skipped_on_rerun(tmp_path: Path) -> None:
    from tidegate.normalize import normalize
    from tidegate.route import route
    from tidegate.store import commit_batch, lookup_committed
    from tidegate.validate import validate

    landing = tmp_path / "in"
    landing.mkdir()
    (landing / "jan.csv").write_text("order_id,status,amount,order_date\n1,pending,5,2024-01-01\n")
    age(landing / "jan.csv", 10)
    contract = make_contract()
    store = tmp_path / "s.duckdb"
    source = LandingFolderSource("orders", landing)

    def run() -> list[str]:
        events = []
        for file in source.read():
            if lookup_committed(store, "orders", f"sha256:{file.hash()}"):
                events.append("skipped")
                continue
            item = file.collect()
            assert isinstance(item, RawBatch)
            normalized = normalize(item.frame, contract)
            routed = route(item, normalized, validate(normalized.frame, contract), contract)
            commit_batch(store, routed, contract)
            events.append("committed")
        return events

    assert run() == ["committed"]
    (landing / "feb.csv").write_text("order_id,status,amount,order_date\n2,shipped,7,2024-02-01\n")
    age(landing / "feb.csv", 10)
    assert run() == ["committed", "skipped"]  # feb.csv is new, jan.csv was committed
    assert run() == ["skipped", "skipped"]
