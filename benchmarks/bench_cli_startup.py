"""Benchmark: start-up of the read-only commands, end to end in a fresh process.

    python benchmarks/bench_cli_startup.py --repeat 7
    python benchmarks/bench_cli_startup.py --repeat 7 --before /path/to/old/checkout

Builds (once, in benchmarks/out/) a small store from sample_data/orders (tidegate's
engine, no Prefect), then runs each command ``--repeat`` times as ``python -c "from
tidegate.cli import main; main()" ...`` and prints the median wall seconds and the
median CPU seconds of the child (user + system, ``resource.getrusage`` of children),
after one untimed run that caches the bytecode (as an installed package has it).
With ``--before DIR`` the same commands run on the tree in ``DIR/src`` (a checkout of
an earlier commit) beside this one, with the ratio of their CPU medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAIN = "from tidegate.cli import main; main()"


def build_store(path: Path) -> None:
    import tidegate

    if path.exists():
        return
    os.environ["TIDEGATE_HOME"] = str(HERE / "out" / "home")  # the key the commands see
    path.parent.mkdir(parents=True, exist_ok=True)
    contract = tidegate.load_contract(ROOT / "schemas" / "orders.yaml")
    source = str(ROOT / "sample_data" / "orders" / "*.csv")
    tidegate.Pipeline(source=source, contract=contract, store=tidegate.open_store(path)).run()


def commands(store: Path) -> list[tuple[str, list[str]]]:
    s = ["--store", str(store)]
    return [
        ("--help", ["--help"]),
        ("--version", ["--version"]),
        ("audit list", ["audit", "list", *s]),
        ("audit verify", ["audit", "verify", *s]),
        ("quarantine list", ["quarantine", "list", *s]),
        ("schema history", ["schema", "history", "orders", *s]),
        ("schema shadow-report", ["schema", "shadow-report", "orders", "--project", str(ROOT), *s]),
    ]


def measure(args: list[str], src: Path | None, repeat: int) -> tuple[float, float]:
    env = {**os.environ, "TIDEGATE_HOME": str(HERE / "out" / "home")}
    env.pop("TIDEGATE_STORE", None)
    # as an installed package runs: its bytecode cached (written by the first, untimed run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    subprocess.run([sys.executable, "-c", MAIN, *args], env=env, capture_output=True)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", MAIN, *args], env=env, capture_output=True, text=True
        )
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{args} exited {done.returncode}: {done.stderr[-500:]}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--before", type=Path, help="an earlier checkout to compare with")
    opts = parser.parse_args()
    store = HERE / "out" / "cli-startup" / "tidegate.duckdb"
    build_store(store)
    print("| command | before wall s | before CPU s | wall s | CPU s | x before (CPU) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, args in commands(store):
        wall, cpu = measure(args, ROOT / "src", opts.repeat)
        if opts.before is None:
            print(f"| `{label}` | | | {wall:.2f} | {cpu:.2f} | |")
            continue
        old_wall, old_cpu = measure(args, opts.before / "src", opts.repeat)
        print(
            f"| `{label}` | {old_wall:.2f} | {old_cpu:.2f} | {wall:.2f} | {cpu:.2f} "
            f"| {cpu / old_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
