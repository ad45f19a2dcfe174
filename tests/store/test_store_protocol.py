"""open_store and the two Store implementations: what a store value is, before any I/O."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tidegate.store import (
    DuckDBStore,
    PostgresStore,
    connect,
    default_store_path,
    open_store,
    transaction,
)


def test_open_store_tells_a_url_from_a_file_and_keeps_a_store_as_is(tmp_path: Path) -> None:
    assert open_store("postgresql://u@h/db") == PostgresStore("postgresql://u@h/db")
    assert isinstance(open_store("postgres://u@h/db"), PostgresStore)
    assert open_store(tmp_path / "s.duckdb") == DuckDBStore(tmp_path / "s.duckdb")
    assert open_store(str(tmp_path / "s.duckdb")) == DuckDBStore(tmp_path / "s.duckdb")
    made = open_store("relative/s.duckdb")
    assert open_store(made) is made
    assert open_store is open_store


@pytest.mark.parametrize(
    "store",
    [DuckDBStore(Path("/data/s.duckdb")), PostgresStore("postgresql://u:s3cr3t@h:5432/db")],
)
def test_a_store_is_hashable_and_picklable_and_never_prints_a_password(store: object) -> None:
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and hash(copy) == hash(store)
    assert len({store, copy}) == 1
    assert "s3cr3t" not in str(store) and "s3cr3t" not in str(copy)


def test_what_a_store_passes_on_and_how_it_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    file = DuckDBStore(Path("s.duckdb"))
    assert str(file) == "s.duckdb"
    assert file.argument() == file.label() == str(tmp_path / "s.duckdb")
    url = "postgresql://u:${PW}@h/db"
    team = PostgresStore(url)
    assert team.argument() == url  # ${PW} is resolved by whoever opens it
    assert team.label() == str(team) and "${PW}" not in team.label()


def test_default_store_path_is_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDEGATE_STORE", raising=False)
    assert default_store_path(tmp_path) == DuckDBStore(tmp_path / ".tidegate" / "tidegate.duckdb")
    monkeypatch.setenv("TIDEGATE_STORE", "postgresql://u@h/db")
    assert default_store_path(tmp_path) == PostgresStore("postgresql://u@h/db")


def test_store_functions_take_a_plain_path_or_a_store(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with transaction(path) as con:
        con.execute("CREATE TABLE t (x INT)")
        con.execute("INSERT INTO t VALUES (1)")
    with connect(DuckDBStore(path), read_only=True) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert DuckDBStore(path).exists() and not DuckDBStore(tmp_path / "none.duckdb").exists()
