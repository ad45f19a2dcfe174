"""DuckDB's memory cap: applied to every connection, and a bad value is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidegate.errors import ConfigError
from tidegate.store import open_store


def test_the_cap_applies_to_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDEGATE_DUCKDB_MEMORY", "300MB")
    with open_store(tmp_path / "s.duckdb").connect() as con:
        (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchall()[0]
    assert limit.replace(" ", "").upper() in ("286.1MIB", "300.0MB", "286MIB")


def test_a_bad_value_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEGATE_DUCKDB_MEMORY", "lots")
    store = open_store(tmp_path / "s.duckdb")
    with pytest.raises(ConfigError, match=r"TIDEGATE_DUCKDB_MEMORY='lots'.*e\.g\. 1GB"):
        store.connect().__enter__()
