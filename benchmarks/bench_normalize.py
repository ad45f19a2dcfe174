"""Benchmark: normalize alone, the screened fast path vs every step on every row.

    python benchmarks/bench_normalize.py --rows 2000000

Reads the orders file of ``bench_ingest.py`` in the engine's chunks and normalizes
each chunk twice, with ``tidegate.normalize.normalize`` and with the reference kept
in ``tests/normalize/_reference.py`` (normalize as it was before issue 16), checking
that both give the same frame and counts. Prints the CPU seconds of each (the
machine is shared: read CPU seconds and the ratio, not wall time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    sys.path[:0] = [str(HERE), str(ROOT / "tests")]
    import generate

    from normalize._reference import reference_normalize
    from tidegate.contracts import load_contract
    from tidegate.normalize import normalize
    from tidegate.sources import FileSource

    csv_path = generate.orders_csv(args.rows, args.seed)
    contract = load_contract(ROOT / "schemas" / "orders.yaml")
    (item,) = list(FileSource("orders", str(csv_path)).read())
    chunks = [chunk.frame for chunk in item.chunks()]
    cpu = {"normalize": 0.0, "reference": 0.0}
    for _ in range(args.repeat):
        for frame in chunks:
            c0 = time.process_time()
            fast = normalize(frame, contract)
            c1 = time.process_time()
            slow = reference_normalize(frame, contract)
            c2 = time.process_time()
            cpu["normalize"] += c1 - c0
            cpu["reference"] += c2 - c1
            assert fast.frame.equals(slow.frame)
            assert list(fast.rule_counts.items()) == list(slow.rule_counts.items())
    print(f"{args.rows:,} rows in {len(chunks)} chunks, {args.repeat} passes, same results")
    print(f"{'implementation':<30}{'CPU s / pass':>14}{'x reference':>13}")
    for name, label in (("reference", "every step on every row"), ("normalize", "screened")):
        per_pass = cpu[name] / args.repeat
        ratio = cpu[name] / cpu["reference"]
        print(f"{label:<30}{per_pass:>14.2f}{ratio:>13.2f}")


if __name__ == "__main__":
    main()
