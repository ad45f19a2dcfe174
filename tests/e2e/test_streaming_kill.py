"""A file read in chunks survives kill -9 anywhere: while its chunks are staged, or
during the second read of a held batch inside the publishing transaction. The re-run
leaves exactly one copy of every row, the audit chain intact, nothing staged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store_backends import store_arg
from tidegate.store import Store, transaction
from tidegate.store._staging import QUARANTINE_STAGING

ROWS = 600
CONTRACT = """\
source: orders
version: 1
primary_key: [order_id]
columns:
  order_id: {type: int64}
  amount: {type: float64, checks: [{ge: 0}]}
  status: {type: string, checks: [{isin: [new, paid]}]}
policy: {max_quarantine_ratio: RATIO}
"""

RUN = """
import sys
from tidegate import Pipeline
result = Pipeline(source=sys.argv[1], contract=sys.argv[2], store=sys.argv[3],
                  chunk_size=50).run()
print(result.exit_code, result.loaded, result.quarantined, result.duplicates)
"""


def write_inputs(folder: Path, ratio: float) -> tuple[Path, Path]:
    lines = ["order_id,amount,status"]
    for i in range(1, ROWS + 1):
        amount = "-1" if i % 10 == 0 else f"{i}.25"
        lines.append(f"{i},{amount},{'new' if i % 3 else 'paid'}")
    lines.append("7,7.25,new")  # an exact repeat of record 8's key, far away
    data = folder / "orders.csv"
    data.write_text("\n".join(lines) + "\n")
    contract = folder / "orders.yaml"
    contract.write_text(CONTRACT.replace("RATIO", str(ratio)))
    return data, contract


def run(args: list[str], pause: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEGATE_TEST_")}
    if pause:
        env["TIDEGATE_TEST_PAUSE_AFTER_CHUNK"] = pause
    return subprocess.Popen(
        [sys.executable, "-c", RUN, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_at(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if marker in line:
            proc.send_signal(signal.SIGKILL)
            proc.wait(60)
            return
    proc.kill()
    raise AssertionError(f"never reached {marker!r}: {proc.stderr.read()[-2000:]}")


def counts(store: Store) -> dict[str, int]:
    with transaction(store) as con:

        def one(sql: str) -> int:
            return int(con.execute(sql).fetchall()[0][0])

        return {
            "loaded": one("SELECT count(*) FROM orders"),
            "distinct": one("SELECT count(DISTINCT order_id) FROM orders"),
            "quarantined": one("SELECT count(*) FROM quarantine"),
            "checkpoints": one("SELECT count(*) FROM checkpoints WHERE status = 'committed'"),
            "staged_q": one(f"SELECT count(*) FROM {QUARANTINE_STAGING}"),
        }


@pytest.mark.parametrize(
    ("ratio", "marker"),
    [(1.0, "staged chunk 5"), (0.05, "second read chunk 4")],
    ids=["while-staging", "during-the-second-read"],
)
def test_kill_9_part_way_then_rerun_leaves_one_copy(
    store: Store, tmp_path: Path, ratio: float, marker: str
) -> None:
    data, contract = write_inputs(tmp_path, ratio)
    args = [str(data), str(contract), store_arg(store)]
    kill_at(run(args, "0.1"), marker)
    if store.exists():
        with transaction(store) as con:
            left = con.execute("SELECT count(*) FROM checkpoints").fetchall()[0][0]
        assert left == 0, "a killed run committed a checkpoint"
    done = run(args, None)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err[-3000:]
    exit_code, loaded, quarantined, duplicates = (int(v) for v in out.split())
    got = counts(store)
    if ratio == 1.0:
        assert (exit_code, loaded, quarantined, duplicates) == (0, 540, 60, 1)
        assert got == {
            "loaded": 540,
            "distinct": 540,
            "quarantined": 60,
            "checkpoints": 1,
            "staged_q": 0,
        }
    else:
        assert (exit_code, loaded, quarantined, duplicates) == (3, 0, 600, 1)
        assert got == {
            "loaded": 0,
            "distinct": 0,
            "quarantined": 600,
            "checkpoints": 1,
            "staged_q": 0,
        }
    from tidegate.audit import verify_chain

    assert verify_chain(store).ok
