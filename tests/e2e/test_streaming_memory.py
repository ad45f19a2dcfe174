"""A file far larger than its chunks is ingested in bounded memory: a generated CSV of
two million rows (about 76 MB) run through `tidegate.Pipeline` in a fresh process, read
4 MiB at a time, peaks well under what reading it whole takes.

Measured on the development machine: about 470 MB peak (of which some 190 MB is
importing polars, pandera and DuckDB, and up to 256 MB DuckDB's own cap, set below),
the same for a file of 60 MB or 186 MB; read whole, as one batch, the same file took
about 10 times its size plus the imports (some 950 MB). The bound sits between.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROWS = 2_000_000
BOUND_MB = 700

RUN = """
import json, resource, sys
from tidegate import Pipeline
result = Pipeline(source=sys.argv[1], contract=sys.argv[2], store=sys.argv[3],
                  chunk_size="4MiB").run()
(outcome,) = result.outcomes
# This process's own peak: VmHWM belongs to the memory image, which exec replaces;
# ru_maxrss on Linux keeps the peak of the image before exec, i.e. of the forked pytest
# process (which may itself be past the bound after a long session).
try:
    with open("/proc/self/status") as status:
        peak_kb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"event": outcome.event, "rows_in": outcome.rows_in,
                  "loaded": outcome.loaded, "quarantined": outcome.quarantined,
                  "peak_mb": peak_kb / 1024}))
"""

CONTRACT = """\
source: orders
version: 1
primary_key: [order_id]
columns:
  order_id: {type: int64}
  amount: {type: float64, checks: [{ge: 0}]}
  status: {type: string, checks: [{isin: [new, paid]}]}
  note: {type: string}
"""


def write_csv(path: Path) -> None:
    with path.open("w") as out:
        out.write("order_id,amount,status,note\n")
        for start in range(0, ROWS, 200_000):
            out.write(
                "".join(
                    f"{i},{'-1' if i % 1000 == 0 else f'{i % 997}.25'},"
                    f"{'new' if i % 3 else 'paid'},note number {i}\n"
                    for i in range(start + 1, start + 200_001)
                )
            )


def test_a_large_file_is_ingested_in_bounded_memory(tmp_path: Path) -> None:
    data, contract = tmp_path / "orders.csv", tmp_path / "orders.yaml"
    write_csv(data)
    contract.write_text(CONTRACT)
    env = {**os.environ, "TIDEGATE_DUCKDB_MEMORY": "256MB"}
    env.pop("TIDEGATE_STORE", None)
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(data), str(contract), str(tmp_path / "s.duckdb")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["event"] == "batch_committed"
    assert (got["rows_in"], got["loaded"], got["quarantined"]) == (ROWS, ROWS - 2000, 2000)
    size_mb = data.stat().st_size / 1e6
    assert size_mb > 70
    assert got["peak_mb"] < BOUND_MB, (
        f"peak RSS {got['peak_mb']:.0f} MB for a {size_mb:.0f} MB file read 4 MiB at a time"
    )
