"""A DuckDB store stages a large file's rows as Parquet files beside it: a disk that
fills up while they are written is a clear error, never a partial publication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.sliced import sliced
from engine.test_chunked import contract, count_rows, raw_batch, records, snapshot, staged_files
from tidegate.engine import _chunked, ingest_batch
from tidegate.store import transaction


def test_a_full_disk_while_staging_is_one_clear_error_and_the_next_run_loads_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staged file that cannot be written (the disk beside a DuckDB store is full:
    polars reports it as a ComputeError) fails the run with a StoreError that names the
    folder and the fix; nothing is published, no partial file stays, and once there is
    room the next run loads the file as if nothing had happened."""
    import polars as pl

    from tidegate import open_store
    from tidegate.errors import StoreError

    monkeypatch.setattr(_chunked, "WRITE_BYTES", 1)  # every chunk staged, none held
    store = open_store(tmp_path / "store.duckdb")
    c = contract()
    raw = raw_batch(records())
    real = pl.DataFrame.write_parquet
    written: list[Any] = []

    def full_disk(self: pl.DataFrame, file: Any, **kw: Any) -> None:
        if written:  # the first chunk fits, the second finds the disk full
            Path(file).write_bytes(b"PAR1 half a file")
            raise pl.exceptions.ComputeError(
                "parquet: File out of specification: underlying IO error: "
                "No space left on device (os error 28)"
            )
        written.append(file)
        real(self, file, **kw)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full_disk)
    with pytest.raises(StoreError) as caught:
        ingest_batch(store, sliced(raw, 7), c)
    text = str(caught.value)
    assert "No space left on device" in text and f"{store.path}.staged" in text
    assert "free some space" in text and "--store" in text
    assert not list(Path(f"{store.path}.staged").glob("**/*.partial"))
    with transaction(store) as con:
        assert count_rows(con, "orders") == 0 and count_rows(con, "checkpoints") == 0
    monkeypatch.setattr(pl.DataFrame, "write_parquet", real)
    outcome = ingest_batch(store, sliced(raw, 7), c)
    assert outcome.event == "batch_committed" and not staged_files(store)
    ref = open_store(tmp_path / "ref.duckdb")
    ingest_batch(ref, raw, c)
    assert snapshot(store) == snapshot(ref)
