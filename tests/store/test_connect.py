from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tidegate.errors import StoreError, StoreLockedError
from tidegate.store import connect, transaction

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold_lock(store: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_waits_for_a_lock_held_by_another_process(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    proc = _hold_lock(store, 1.0)
    started = time.monotonic()
    with transaction(store) as con:
        con.execute("CREATE TABLE t (x INT)")
    assert time.monotonic() - started >= 0.3  # it really waited for the other process
    proc.wait(timeout=10)


def test_gives_up_with_a_transient_error(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    proc = _hold_lock(store, 3.0)
    try:
        with (
            pytest.raises(StoreLockedError, match="TIDEGATE_LOCK_WAIT"),
            connect(store, wait_seconds=0.3),
        ):
            pass
    finally:
        proc.wait(timeout=10)


def test_read_only_on_missing_store_says_what_to_do(tmp_path: Path) -> None:
    with (
        pytest.raises(StoreError, match="tidegate demo"),
        connect(tmp_path / "none.duckdb", read_only=True),
    ):
        pass
