"""Generate a large, messy orders CSV that matches ``schemas/orders.yaml``.

    python benchmarks/generate.py --rows 2000000 --out benchmarks/out/orders_2m.csv --seed 1

Every value is a string, as a CSV export would hold it. About ``--dirty`` (default
5%) of the rows carry exactly one deliberate mess item, chosen deterministically
from the seed, in the same ways as ``sample_data/orders/``. Each mess kind is
either *normalized* by the contract (the row loads) or *quarantined* with a
known rule id, or counted as a *duplicate*, so a benchmark can assert totals:

    kind               effect         example
    bad_email          email.regex    "bob@", "not-an-email", "user@example"
    negative_quantity  quantity.ge    "-3", "0"
    bad_amount         amount.type    "twelve"
    impossible_date    order_date.type "2024-02-30"
    dollar_amount      normalized     "$1,234.50"
    date_dmy           normalized     "05/01/2024"
    date_mon           normalized     "Jan 05 2024"
    whitespace         normalized     " shipped ", "  user1@example.com "
    null_token         normalized     "", "N/A", "null", "-" in a nullable column
    status_case        normalized     "Shipped", "SHIPPED", "canceled"
    duplicate          duplicate      exact copy of the (clean) row before it

The work is vectorised (seeded random bytes wrapped by pyarrow, polars expressions
for the arithmetic and the strings): no Python loop per row, no numpy needed.
Importable: ``generate(rows, seed)`` returns a ``polars.DataFrame`` of strings,
``write_csv(df, path)`` writes it, ``mess_counts(rows, seed)`` says how many rows
of each kind ``generate`` makes and ``expected_totals(rows, seed)`` what a run of
the file should count.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow as pa

COLUMNS = ["order_id", "customer_id", "status", "amount", "order_date", "email", "quantity"]
STATUSES = ["pending", "shipped", "cancelled", "returned"]
STATUS_WEIGHTS = [0.25, 0.55, 0.1, 0.1]

# mess kind -> (relative weight among dirty rows, effect)
KINDS: dict[str, tuple[float, str]] = {
    "bad_email": (10, "quarantine"),
    "negative_quantity": (10, "quarantine"),
    "bad_amount": (8, "quarantine"),
    "impossible_date": (4, "quarantine"),
    "dollar_amount": (14, "normalize"),
    "date_dmy": (10, "normalize"),
    "date_mon": (10, "normalize"),
    "whitespace": (12, "normalize"),
    "null_token": (10, "normalize"),
    "status_case": (10, "normalize"),
    "duplicate": (2, "duplicate"),
}
KIND_NAMES = list(KINDS)
KIND_ID = {name: i for i, name in enumerate(KIND_NAMES)}
CLEAN = -1

BAD_EMAILS = ["bob@", "not-an-email", "user@example"]
NULL_TOKENS = ["", "N/A", "null", "-"]
NULLABLE_COLUMNS = ["amount", "order_date", "email", "quantity"]
BASE_DAY = 19723  # 2024-01-01 as days since the Unix epoch


def _uniform_u64(rng: random.Random, rows: int) -> pl.Series:
    """``rows`` uniform UInt64 draws, made in C (``randbytes``) and wrapped zero-copy."""
    buf = pa.py_buffer(rng.randbytes(8 * rows))
    return pl.from_arrow(pa.Array.from_buffers(pa.uint64(), rows, [None, buf]))  # type: ignore[return-value]


def _unit(rng: random.Random, rows: int) -> pl.Series:
    """``rows`` uniform floats in [0, 1) from the top 53 bits of each draw."""
    return (_uniform_u64(rng, rows) // (1 << 11)).cast(pl.Float64) / float(1 << 53)


def _integers(rng: random.Random, rows: int, low: int, high: int) -> pl.Series:
    """Uniform integers in [low, high) (modulo bias is negligible for these ranges)."""
    return ((_uniform_u64(rng, rows) % (high - low)).cast(pl.Int64) + low).rename("")


def _choice(rng: random.Random, rows: int, weights: list[float]) -> pl.Series:
    """Indexes 0..len(weights)-1 drawn with the given relative weights."""
    total = sum(weights)
    u = _unit(rng, rows)
    expr = pl.lit(len(weights) - 1, pl.Int8)
    for i in range(len(weights) - 2, -1, -1):  # innermost when = smallest threshold
        threshold = sum(weights[: i + 1]) / total
        expr = pl.when(pl.col("u") < threshold).then(pl.lit(i, pl.Int8)).otherwise(expr)
    return pl.DataFrame({"u": u}).select(expr.alias("choice")).to_series()


def _plan(rows: int, seed: int, dirty: float) -> pl.DataFrame:
    """All random draws, one column each; deterministic for (rows, seed, dirty).

    Uses Python's seeded Mersenne Twister through ``randbytes`` (stable across
    Python versions for an int seed) and pyarrow/polars for the arithmetic, so
    neither numpy nor a per-row Python loop is needed.
    """
    rng = random.Random(seed)
    weights = [w for w, _ in KINDS.values()]
    is_dirty = _unit(rng, rows) < dirty
    plan = pl.DataFrame(
        {
            "dirty": is_dirty,
            "kind_draw": _choice(rng, rows, weights),
            "aux": _integers(rng, rows, 0, 48),  # picks a variant per kind
            "customer_id": _integers(rng, rows, 1, 250_000),
            "status_i": _choice(rng, rows, STATUS_WEIGHTS),
            "cents": _integers(rng, rows, 100, 2_000_000),  # 1.00 .. 19999.99
            "day": _integers(rng, rows, 0, 366),
            "quantity_i": _integers(rng, rows, 1, 10),
        }
    )
    kind = pl.when(pl.col("dirty")).then(pl.col("kind_draw")).otherwise(pl.lit(CLEAN, pl.Int8))
    # a duplicate copies the row before it; keep the count exact by only copying
    # clean rows (the first row, or a row after a dirty one, stays clean instead)
    prev_clean = (kind.shift(1) == CLEAN).fill_null(False)
    return plan.with_columns(
        pl.when((kind == KIND_ID["duplicate"]) & ~prev_clean)
        .then(pl.lit(CLEAN, pl.Int8))
        .otherwise(kind)
        .alias("kind")
    ).drop("dirty", "kind_draw")


def mess_counts(rows: int, seed: int = 1, dirty: float = 0.05) -> dict[str, int]:
    """How many rows of each mess kind ``generate(rows, seed, dirty)`` produces."""
    kind = _plan(rows, seed, dirty)["kind"]
    counts = dict(kind.value_counts().iter_rows())
    return {name: int(counts.get(i, 0)) for i, name in enumerate(KIND_NAMES)}


def expected_totals(rows: int, seed: int = 1, dirty: float = 0.05) -> dict[str, int]:
    """rows_in, rows_loaded, rows_quarantined, rows_duplicate for one run of the file."""
    counts = mess_counts(rows, seed, dirty)
    quarantined = sum(n for k, n in counts.items() if KINDS[k][1] == "quarantine")
    duplicates = sum(n for k, n in counts.items() if KINDS[k][1] == "duplicate")
    return {
        "rows_in": rows,
        "rows_loaded": rows - quarantined - duplicates,
        "rows_quarantined": quarantined,
        "rows_duplicate": duplicates,
    }


def _pick(options: list[str], index: pl.Expr) -> pl.Expr:
    """options[index % len(options)] as a string expression."""
    expr = pl.lit(options[-1])
    for i in range(len(options) - 2, -1, -1):
        expr = pl.when(index % len(options) == i).then(pl.lit(options[i])).otherwise(expr)
    return expr


def generate(rows: int, seed: int = 1, dirty: float = 0.05) -> pl.DataFrame:
    """``rows`` messy order rows, every column a string (Utf8), in contract column order."""
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    p = _plan(rows, seed, dirty)
    k = pl.col("kind")
    aux = pl.col("aux")

    def is_(name: str) -> pl.Expr:
        return k == KIND_ID[name]

    base = p.with_columns(
        pl.int_range(1, rows + 1, dtype=pl.Int64).alias("order_id"),
        (pl.col("day") + BASE_DAY).cast(pl.Int32).cast(pl.Date).alias("date"),
    )

    whole = (pl.col("cents") // 100).cast(pl.Utf8)
    frac = (pl.col("cents") % 100).cast(pl.Utf8).str.zfill(2)
    thousands = pl.col("cents") // 100_000
    below = ((pl.col("cents") // 100) % 1000).cast(pl.Utf8).str.zfill(3)
    dollars = (
        pl.when(thousands > 0)
        .then(pl.concat_str([pl.lit("$"), thousands.cast(pl.Utf8), pl.lit(","), below]))
        .otherwise(pl.concat_str([pl.lit("$"), whole]))
    )
    plain_amount = pl.concat_str([whole, pl.lit("."), frac])
    status = pl.col("status_i").replace_strict(
        list(range(len(STATUSES))), STATUSES, return_dtype=pl.Utf8
    )
    email = pl.concat_str(
        [pl.lit("user"), pl.col("customer_id").cast(pl.Utf8), pl.lit("@example.com")]
    )
    null_col = aux % len(NULLABLE_COLUMNS)  # which nullable column gets the null token
    null_tok = _pick(NULL_TOKENS, aux // len(NULLABLE_COLUMNS))

    def nulled(col: str, value: pl.Expr) -> pl.Expr:
        i = NULLABLE_COLUMNS.index(col)
        return pl.when(is_("null_token") & (null_col == i)).then(null_tok).otherwise(value)

    out = base.select(
        pl.col("order_id").cast(pl.Utf8),
        pl.col("customer_id").cast(pl.Utf8),
        pl.when(is_("whitespace"))
        .then(pl.concat_str([pl.lit(" "), status, pl.lit(" ")]))
        .when(is_("status_case") & (status == "cancelled"))
        .then(pl.lit("canceled"))
        .when(is_("status_case") & (aux % 2 == 0))
        .then(status.str.to_uppercase())
        .when(is_("status_case"))
        .then(status.str.to_titlecase())
        .otherwise(status)
        .alias("status"),
        nulled(
            "amount",
            pl.when(is_("dollar_amount"))
            .then(pl.concat_str([dollars, pl.lit("."), frac]))
            .when(is_("bad_amount"))
            .then(pl.lit("twelve"))
            .otherwise(plain_amount),
        ).alias("amount"),
        nulled(
            "order_date",
            pl.when(is_("date_dmy"))
            .then(pl.col("date").dt.strftime("%d/%m/%Y"))
            .when(is_("date_mon"))
            .then(pl.col("date").dt.strftime("%b %d %Y"))
            .when(is_("impossible_date"))
            .then(pl.lit("2024-02-30"))
            .otherwise(pl.col("date").dt.strftime("%Y-%m-%d")),
        ).alias("order_date"),
        nulled(
            "email",
            pl.when(is_("bad_email"))
            .then(_pick(BAD_EMAILS, aux))
            .when(is_("whitespace"))
            .then(pl.concat_str([pl.lit("  "), email, pl.lit(" ")]))
            .otherwise(email),
        ).alias("email"),
        nulled(
            "quantity",
            pl.when(is_("negative_quantity") & (aux % 4 == 0))
            .then(pl.lit("0"))
            .when(is_("negative_quantity"))
            .then(pl.concat_str([pl.lit("-"), pl.col("quantity_i").cast(pl.Utf8)]))
            .otherwise(pl.col("quantity_i").cast(pl.Utf8)),
        ).alias("quantity"),
    )

    # duplicates: the row becomes an exact copy of the clean row before it
    dup = p["kind"] == KIND_ID["duplicate"]
    if dup.any():
        index = pl.int_range(0, rows, dtype=pl.Int64, eager=True) - dup.cast(pl.Int64)
        out = out.select(pl.all().gather(index))
    return out


def write_csv(df: pl.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as a UTF-8 CSV with a header; creates the parent directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(path)
    return path


def orders_csv(rows: int, seed: int = 1) -> Path:
    """``benchmarks/out/orders_<rows>.csv``, generated on first use and kept for the next
    benchmark; prints its size."""
    import time

    path = Path(__file__).parent / "out" / f"orders_{rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        write_csv(generate(rows, seed), path)
        print(f"generated {path} in {time.perf_counter() - t:.1f}s")
    print(f"input: {rows:,} rows, {path.stat().st_size / 1e6:.0f} MB ({path})")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/orders.csv"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dirty", type=float, default=0.05, help="fraction of dirty rows")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    df = generate(args.rows, args.seed, args.dirty)
    built = time.perf_counter()
    write_csv(df, args.out)
    done = time.perf_counter()

    counts = mess_counts(args.rows, args.seed, args.dirty)
    totals = expected_totals(args.rows, args.seed, args.dirty)
    print(
        f"wrote {df.height:,} rows to {args.out} in {done - start:.2f}s "
        f"(generate {built - start:.2f}s, write {done - built:.2f}s)"
    )
    print("dirty rows by kind: " + ", ".join(f"{k}={n:,}" for k, n in counts.items()))
    print("expected: " + ", ".join(f"{k}={n:,}" for k, n in totals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
