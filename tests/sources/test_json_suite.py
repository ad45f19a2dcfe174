"""JSONTestSuite documents read as JSON sources: never raise, never hang, never vanish."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tidegate.sources import RECORD_COLUMN, FileReject, FileSource, RawBatch

SECONDS_PER_FILE = 5.0
SUITE = Path(__file__).parents[2].parent / "shared" / "corpora" / "json-test-suite"
CorpusDir = Callable[[str], Path]


def _names(prefix: str) -> list[str]:
    folder = SUITE / "test_parsing"
    if not folder.is_dir():
        return ["<missing>"]
    return sorted(p.name for p in folder.glob(f"{prefix}_*.json"))


def _read(folder: Path, name: str) -> RawBatch | FileReject:
    path = folder / "test_parsing" / name
    started = time.perf_counter()
    items = [file.collect() for file in FileSource("json-suite", path).read()]
    assert time.perf_counter() - started < SECONDS_PER_FILE, f"{name} took too long"
    assert len(items) == 1
    return items[0]


def _outcomes(item: RawBatch | FileReject) -> int:
    if isinstance(item, FileReject):
        assert item.reason
        return 1
    for reject in item.rejects:
        assert reject.reason
        reject.raw.encode("utf-8")  # storable as text: no lone surrogates
    return item.frame.height + len(item.rejects)


def test_corpus_has_all_three_kinds(corpus_dir: CorpusDir) -> None:
    corpus_dir("json-test-suite")
    assert len(_names("y")) > 50 and len(_names("n")) > 100 and len(_names("i")) > 10


@pytest.mark.parametrize("name", _names("n"))
def test_invalid_documents_are_quarantined(name: str, corpus_dir: CorpusDir) -> None:
    item = _read(corpus_dir("json-test-suite"), name)
    assert _outcomes(item) >= 1, f"{name} vanished silently"
    if isinstance(item, RawBatch):
        assert item.rejects, f"{name} is not JSON yet produced only records"


@pytest.mark.parametrize("name", _names("y"))
def test_valid_documents_are_read(name: str, corpus_dir: CorpusDir) -> None:
    folder = corpus_dir("json-test-suite")
    document = json.loads((folder / "test_parsing" / name).read_bytes())
    item = _read(folder, name)
    assert isinstance(item, RawBatch), f"{name}: {item}"
    elements = document if isinstance(document, list) else [document]
    objects = [element for element in elements if isinstance(element, dict)]
    assert item.frame.height == len(objects)
    assert len(item.rejects) == len(elements) - len(objects)
    assert all(r.reason.startswith("not a JSON object") for r in item.rejects)
    if isinstance(document, dict):
        assert item.frame.drop(RECORD_COLUMN).columns == list(document)


@pytest.mark.parametrize("name", _names("i"))
def test_implementation_defined_documents_do_not_crash(name: str, corpus_dir: CorpusDir) -> None:
    item = _read(corpus_dir("json-test-suite"), name)
    assert _outcomes(item) >= 1, f"{name} vanished silently"
