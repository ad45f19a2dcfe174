"""The hand-written alternative: the same work as tidegate on the orders contract, in raw
polars + DuckDB, the way a team would write it without a framework.

Reads the CSV as strings, normalizes (trim, null tokens, lower + map status,
strip "$" and ",", three date formats), casts, checks every rule, drops in-file
duplicate keys, loads passing rows and writes failing rows with their raw
record and the list of failed rules to a quarantine table, in one transaction.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import polars as pl

NULLS = ["", "N/A", "null", "-"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def run(csv_path: Path, store: Path) -> dict[str, int]:
    raw = pl.read_csv(csv_path, infer_schema=False, empty_string_is_null=False)
    raw = raw.with_row_index("_line", offset=2)
    s = {c: pl.col(c).str.strip_chars() for c in raw.columns if c != "_line"}
    s = {c: pl.when(e.is_in(NULLS)).then(None).otherwise(e) for c, e in s.items()}
    status = s["status"].str.to_lowercase().replace({"canceled": "cancelled"})
    amount = s["amount"].str.replace_all(r"[$,]", "")
    date = pl.coalesce(
        s["order_date"].str.to_date("%Y-%m-%d", strict=False),
        s["order_date"].str.to_date("%d/%m/%Y", strict=False),
        s["order_date"].str.to_date("%b %d %Y", strict=False),
    )
    typed = raw.select(
        "_line",
        s["order_id"].cast(pl.Int64, strict=False).alias("order_id"),
        s["customer_id"].cast(pl.Int64, strict=False).alias("customer_id"),
        status.alias("status"),
        amount.cast(pl.Decimal(12, 2), strict=False).alias("amount"),
        date.alias("order_date"),
        s["email"].alias("email"),
        s["quantity"].cast(pl.Int64, strict=False).alias("quantity"),
        amount.alias("_amount_s"),
        s["order_date"].alias("_date_s"),
        s["quantity"].alias("_qty_s"),
    )
    rules = {
        "order_id.not_null": pl.col("order_id").is_null(),
        "customer_id.not_null": pl.col("customer_id").is_null(),
        "status.isin": ~pl.col("status").is_in(["pending", "shipped", "cancelled", "returned"]),
        "amount.type": pl.col("amount").is_null() & pl.col("_amount_s").is_not_null(),
        "amount.ge": pl.col("amount") < 0,
        "amount.le": pl.col("amount") > 100000,
        "order_date.type": pl.col("order_date").is_null() & pl.col("_date_s").is_not_null(),
        "email.regex": ~pl.col("email").str.contains(EMAIL),
        "quantity.type": pl.col("quantity").is_null() & pl.col("_qty_s").is_not_null(),
        "quantity.ge": pl.col("quantity") < 1,
    }
    failed = pl.any_horizontal([e.fill_null(False) for e in rules.values()])
    good = typed.filter(~failed)
    bad = typed.filter(failed).with_columns(
        pl.concat_list([pl.when(e.fill_null(False)).then(pl.lit(r)) for r, e in rules.items()])
        .list.drop_nulls()
        .alias("_rules")
    )
    dup = good.select(
        pl.col("order_id").is_duplicated() & ~pl.col("order_id").is_first_distinct()
    ).to_series()
    duplicates = int(dup.sum())
    good = good.filter(~dup)
    load = good.select(
        "order_id", "customer_id", "status", "amount", "order_date", "email", "quantity", "_line"
    )
    quarantine = raw.join(bad.select("_line", "_rules"), on="_line").select(
        "_line",
        pl.struct([c for c in raw.columns if c != "_line"]).struct.json_encode().alias("raw"),
        pl.col("_rules").list.join(",").alias("rules"),
    )
    con = duckdb.connect(str(store))
    con.execute("BEGIN")
    con.execute(
        "CREATE TABLE IF NOT EXISTS orders (order_id BIGINT, customer_id BIGINT, status VARCHAR, "
        "amount DECIMAL(12,2), order_date DATE, email VARCHAR, quantity BIGINT, _line BIGINT)"
    )
    con.execute("CREATE TABLE IF NOT EXISTS quarantine (_line BIGINT, raw VARCHAR, rules VARCHAR)")
    con.register("load_df", load.to_arrow())
    con.execute("INSERT INTO orders SELECT * FROM load_df")
    con.register("q_df", quarantine.to_arrow())
    con.execute("INSERT INTO quarantine SELECT * FROM q_df")
    con.execute("COMMIT")
    con.close()
    return {
        "rows_in": raw.height,
        "loaded": load.height,
        "quarantined": quarantine.height,
        "duplicates": duplicates,
    }


if __name__ == "__main__":
    print(run(Path(sys.argv[1]), Path(sys.argv[2])))
