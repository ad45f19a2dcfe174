"""Benchmark: the same row checks as YAML checks, as a GX suite through tidegate, and
in Great Expectations alone (CPU seconds, wall seconds, peak RSS, unexpected rows).

    python benchmarks/bench_gx.py --rows 2000000

Generates (once, under benchmarks/out/) the orders CSV of ``generate.py`` that the other
benchmarks use, then in one child process reads it and normalizes it with the
benchmark's contract (``CONTRACT`` below: isin, ge/le, between, regex, not null, unique,
string lengths) and writes the normalized rows, and the typed rows tidegate casts them
to, as Parquet. The contract's checks are written as a GX 1.x suite by
``tidegate.contracts._gx_export.export_suite`` (what ``tidegate schema export-gx``
writes), keeping only the expectations of the checks (not the column-exists and type
expectations, which the pandera path does in its cast). Each contender then runs in its
own fresh process, one run each, on the same rows. The clock starts after the imports
(Great Expectations' own takes 5-10 s), after the rows are read from Parquet and after a
first, untimed run of the same code on the first 1,000 rows (the imports pandera and GX
make on first use, and GX's ephemeral context: one per process, cached by tidegate and
made once before the clock by the GX-alone code):

- pandera         ``tidegate.validate.validate(normalized, contract)``: cast, then the
                  YAML checks through pandera
- cast-only       ``validate()`` with the same columns and no checks: what the contenders
                  through tidegate pay before any check
- gx-tidegate     ``validate()`` with the columns only and ``expectations: {suite: ...,
                  row_evaluation: tidegate}``: the suite's row expectations as polars
                  expressions (GX is not imported at all)
- gx-gx           the same with ``row_evaluation: gx``: GX itself on pandas,
                  ``result_format: COMPLETE``, every unexpected row listed
- gx-alone        plain great_expectations, as a user of it writes it: an ephemeral
                  context with a pandas dataframe asset and the same suite, then (timed)
                  the typed rows ``polars.DataFrame.to_pandas()``, ``get_batch`` and
                  ``batch.validate(suite, result_format={"result_format": "COMPLETE"})``:
                  every unexpected row as its pandas index

Every contender reports its unexpected rows per check; they must agree (the run exits 1
listing the differences if they do not). The table gives CPU s (``time.process_time``,
all threads of the child), wall s, peak RSS (``ru_maxrss``) and the CPU ratios to the
pandera path and to GX alone.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# The benchmark's contract: the columns and normalization of schemas/orders.yaml, no
# primary key (validate() routes repeats of a key as duplicates, not as failures of
# `unique`), and one or more checks on every column the data has something to check in.
CONTRACT: dict[str, Any] = {
    "source": "orders",
    "version": 1,
    "normalize": {"null_values": ["", "N/A", "null", "-"], "trim": True},
    "columns": {
        "order_id": {"type": "int64", "nullable": False, "unique": True},
        "customer_id": {
            "type": "int64",
            "nullable": False,
            "checks": [{"between": [1, 247500]}],
        },
        "status": {
            "type": "string",
            "normalize": {"lower": True, "map": {"canceled": "cancelled"}},
            "checks": [
                {"isin": ["pending", "shipped", "cancelled", "returned"]},
                {"str_length": {"min": 7, "max": 9}},
            ],
        },
        "amount": {
            "type": "decimal(12,2)",
            "normalize": {"strip": ["$", ","]},
            "checks": [{"ge": 0}, {"le": 19800}],
        },
        "order_date": {"type": "date", "formats": ["%Y-%m-%d", "%d/%m/%Y", "%b %d %Y"]},
        "email": {
            "type": "string",
            "nullable": False,
            "checks": [
                {"regex": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"},
                {"str_length": {"min": 6, "max": 64}},
            ],
        },
        "quantity": {"type": "int64", "checks": [{"ge": 1}, {"le": 9}]},
    },
    "policy": {"on_row_failure": "quarantine", "max_quarantine_ratio": 1.0},
}
SUITE = "orders.gx.json"
CONTENDERS = ["pandera", "cast-only", "gx-tidegate", "gx-gx", "gx-alone"]
LABELS = {
    "pandera": "pandera (YAML checks)",
    "cast-only": "cast only (no checks)",
    "gx-tidegate": "GX suite, row_evaluation: tidegate",
    "gx-gx": "GX suite, row_evaluation: gx",
    "gx-alone": "GX alone (pandas, COMPLETE)",
}

PREPARE = r"""
import json, sys, time
from pathlib import Path
csv_path, work = Path(sys.argv[1]), Path(sys.argv[2])
from tidegate.contracts import load_contract
from tidegate.normalize import normalize
from tidegate.sources._file_batch import LocalFileBatch
from tidegate.validate import cast_frame
contract = load_contract(work / "checks.yaml")
t, cpu0 = time.perf_counter(), time.process_time()
raw = LocalFileBatch("orders", csv_path, "csv").collect()
normalized = normalize(raw.frame, contract).frame
typed, type_failures = cast_frame(normalized, contract)
wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
normalized.write_parquet(work / "normalized.parquet")
typed.drop("_tidegate_record").write_parquet(work / "typed.parquet")
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rows": normalized.height,
                  "type_failures": type_failures.height}))
"""

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, work = sys.argv[1], Path(sys.argv[2])
import polars as pl
WARM_UP = 1000  # rows of a first, untimed run: the imports made on first use
extra = {}
if mode == "gx-alone":
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    typed = pl.read_parquet(work / "typed.parquet")
    suite_document = json.loads((work / "orders.gx.json").read_text())
    cpu0 = time.process_time()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("orders")
        .add_dataframe_asset("orders")
        .add_batch_definition_whole_dataframe("all rows")
    )
    suite = context.suites.add(gx.ExpectationSuite(**suite_document))
    extra["setup_s"] = time.process_time() - cpu0

    def run(frame):
        df = frame.to_pandas()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
        return batch.validate(suite, result_format={"result_format": "COMPLETE"})

    run(typed.head(WARM_UP))
    t, cpu0 = time.perf_counter(), time.process_time()
    validation = run(typed)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
    counts = {}
    for r in validation.results:
        if r.exception_info.get("raised_exception"):
            raise SystemExit(f"GX raised on {r.expectation_config.type}: {r.exception_info}")
        index = r.result["unexpected_index_list"]
        assert len(index) == r.result["unexpected_count"], r.expectation_config
        counts[r.expectation_config.meta["tidegate_rule"]] = len(index)
else:
    from tidegate.contracts import load_contract
    from tidegate.validate import validate
    name = {"pandera": "checks", "cast-only": "types", "gx-tidegate": "gx_tidegate",
            "gx-gx": "gx_gx"}[mode]
    contract = load_contract(work / f"{name}.yaml")
    normalized = pl.read_parquet(work / "normalized.parquet")
    validate(normalized.head(WARM_UP), contract)
    t, cpu0 = time.perf_counter(), time.process_time()
    validated = validate(normalized, contract)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
    rule_counts = validated.rule_counts()
    if contract.expectations is None:
        counts = {r: n for r, n in rule_counts.items() if not r.endswith(".type")}
    else:
        names = {s.rule_id: s.meta["tidegate_rule"] for s in contract.expectations.expectations}
        counts = {names[r]: n for r, n in rule_counts.items() if r in names}
    extra["type_failures"] = sum(n for r, n in rule_counts.items() if r.endswith(".type"))
    extra["gx_imported"] = "great_expectations" in sys.modules
# a check that finds nothing has no failures to count: 0 for every check of the suite
document = json.loads((work / "orders.gx.json").read_text())
counts = {**{e["meta"]["tidegate_rule"]: 0 for e in document["expectations"]}, **counts}
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss_mb, "counts": counts, **extra}))
"""


def _yaml(document: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _contracts(work: Path) -> int:
    """The contracts and the suite under ``work``; the number of expectations kept."""
    from tidegate.contracts import load_contract
    from tidegate.contracts._gx_export import export_suite

    (work / "checks.yaml").write_text(_yaml(CONTRACT))
    types = copy.deepcopy(CONTRACT)
    for column in types["columns"].values():
        for key in ("checks", "nullable", "unique"):
            column.pop(key, None)
    (work / "types.yaml").write_text(_yaml(types))
    for mode in ("tidegate", "gx"):
        with_suite = {**types, "expectations": {"suite": SUITE, "row_evaluation": mode}}
        (work / f"gx_{mode}.yaml").write_text(_yaml(with_suite))
    document = export_suite(load_contract(work / "checks.yaml")).document
    # the checks only: a column's existence and type are the cast's, in every contender
    document["expectations"] = [
        e
        for e in document["expectations"]
        if e["type"] not in ("expect_column_to_exist", "expect_column_values_to_be_in_type_list")
    ]
    (work / SUITE).write_text(json.dumps(document, indent=2) + "\n")
    return len(document["expectations"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=CONTENDERS, choices=CONTENDERS)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import generate

    csv_path = generate.orders_csv(args.rows, args.seed)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tg-bench-gx-") as tmp:
        work = Path(tmp)
        kept = _contracts(work)
        prepared = _child(PREPARE, str(csv_path), str(work))
        print(
            f"read + normalize + cast (untimed for the contenders): {prepared['cpu_s']:.2f} CPU s,"
            f" {prepared['wall_s']:.2f} s; {prepared['type_failures']:,} type failures;"
            f" suite of {kept} expectations"
        )
        for mode in args.only:
            results[mode] = _child(CHILD, mode, str(work))
    sys.exit(report(results))


def _child(code: str, *argv: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def report(results: dict[str, dict]) -> int:
    """Print the table and the unexpected rows per check; 1 when the counts differ."""
    pandera, alone = results.get("pandera"), results.get("gx-alone")
    print(
        f"\n{'contender':<36}{'CPU s':>8}{'wall s':>8}{'peak RSS MB':>13}"
        f"{'x pandera (CPU)':>17}{'x GX alone (CPU)':>18}"
    )
    for mode, r in results.items():
        x_pandera = r["cpu_s"] / pandera["cpu_s"] if pandera else float("nan")
        x_alone = r["cpu_s"] / alone["cpu_s"] if alone else float("nan")
        print(
            f"{LABELS[mode]:<36}{r['cpu_s']:>8.2f}{r['wall_s']:>8.2f}{r['peak_rss_mb']:>13.0f}"
            f"{x_pandera:>17.2f}{x_alone:>18.2f}"
        )
    if alone:
        print(
            f"(GX alone: its ephemeral context, datasource and suite, made once before the "
            f"clock, took {alone['setup_s']:.2f} CPU s)"
        )
    if "gx-tidegate" in results:
        imported = "imported" if results["gx-tidegate"]["gx_imported"] else "never imported"
        print(f"(row_evaluation: tidegate: great_expectations {imported})")

    checked = {m: r["counts"] for m, r in results.items() if m != "cast-only"}
    rules = sorted({rule for counts in checked.values() for rule in counts})
    modes = list(checked)
    print(f"\n{'unexpected rows':<24}" + "".join(f"{m:>13}" for m in modes))
    differ = []
    for rule in rules:
        values = [checked[m].get(rule) for m in modes]
        mark = "" if len(set(values)) == 1 else "   <-- DIFFER"
        if mark:
            differ.append(rule)
        cells = "".join(f"{'-' if v is None else f'{v:,}':>13}" for v in values)
        print(f"{rule:<24}{cells}{mark}")
    if differ:
        print(f"\nFAIL: the unexpected row counts differ for {', '.join(differ)}")
        return 1
    if len(modes) > 1:
        print(f"\nthe unexpected row counts agree across {', '.join(modes)}")
    return 0


if __name__ == "__main__":
    main()
