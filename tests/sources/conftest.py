"""Fixtures for the source tests: the shared messy-input corpora, and writing files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def _corpus_dir(name: str) -> Path:
    folder = CORPORA / name
    if not folder.is_dir():
        message = f"corpus {name!r} not found at {folder} (expected ../shared/corpora/{name})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must provide it")
        pytest.skip(message)
    return folder


@pytest.fixture
def corpus_dir() -> Callable[[str], Path]:
    """A corpus folder by name; skipped when absent locally, a failure under CI=true."""
    return _corpus_dir


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """Write bytes to a file under tmp_path and return its path."""

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return write
