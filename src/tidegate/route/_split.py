"""Split a validated batch into rows to load, rows to quarantine and duplicates.

Conservation is asserted for every batch:
``rows_in = loaded + quarantined + duplicates``.
"""

from __future__ import annotations

import polars as pl

from tidegate.batches import (
    RECORD_COLUMN,
    RawBatch,
    RoutedBatch,
    concat_failures,
    duplicate_rows,
    no_duplicates,
    quarantine_rows,
    reject_rows,
    reject_rule,
)
from tidegate.contracts._model import Contract
from tidegate.normalize import NormalizedBatch, header_finding
from tidegate.rules import DUPLICATE_KEY_RULE, HELD_RULE
from tidegate.validate import BatchJudgement, ValidatedBatch, judge_batch, with_row_results


def repeated_keys(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.Series:
    """``is_duplicated()`` of the key (nulls equal), found by sorting the keys once and
    looking up the few that sort next to an equal one: a quarter of the CPU of hashing
    every key on a batch of unique keys."""
    keys = pl.struct(key) if len(key) > 1 else pl.col(key[0])
    ordered = frame.select(keys.sort()).to_series()
    if ordered.len() < 2:
        return pl.Series([False] * ordered.len(), dtype=pl.Boolean)
    later, earlier = ordered.slice(1), ordered.slice(0, ordered.len() - 1)
    repeats = later.filter(later.eq_missing(earlier)).unique()
    return frame.select(keys.is_in(repeats.implode(), nulls_equal=True)).to_series()


def _key_repeats(typed: pl.DataFrame, failing: pl.Series, key: tuple[str, ...]) -> pl.DataFrame:
    """For passing rows: which repeat an earlier row's key, and with the same content or not."""
    content = [c for c in typed.columns if c != RECORD_COLUMN]
    # the repeated keys among the passing rows, found on the key columns alone (no copy
    # of the other columns of every row); then only those rows (usually few) in full
    rows = typed.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), *key)
    passing = rows.filter(~pl.col("_row").is_in(failing.implode()))
    at = passing.filter(repeated_keys(passing, key)).get_column("_row")
    repeated = (
        typed[at].with_columns(at.alias("_row")).with_columns(pl.struct(content).hash().alias("_h"))
    )
    firsts = repeated.group_by(key, maintain_order=True).agg(
        pl.col("_row").first().alias("_first_row"),
        pl.col("_h").first().alias("_first_h"),
        pl.col(RECORD_COLUMN).first().alias("_first_record"),
    )
    key_text = pl.concat_str(
        [pl.concat_str(pl.lit(f"{k}="), pl.col(k).cast(pl.String)) for k in key], separator=", "
    )
    return (
        repeated.join(firsts, on=list(key), how="inner")
        .filter(pl.col("_row") != pl.col("_first_row"))
        .select(
            pl.col("_row").cast(pl.UInt32),
            (pl.col("_h") == pl.col("_first_h")).alias("exact"),
            RECORD_COLUMN,
            "_first_record",
            key_text.alias("_key"),
        )
        .sort("_row")
    )


def _duplicates_frame(typed: pl.DataFrame, exact: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Every exact duplicate: its record, the first record of its key, key and row hash."""
    if exact.is_empty():
        return no_duplicates()
    columns = list(contract.column_names)
    values = typed.select(columns)[exact["_row"]].rows()
    rows = zip(
        exact[RECORD_COLUMN].to_list(), exact["_first_record"].to_list(), values, strict=True
    )
    return duplicate_rows(rows, columns, contract.primary_key)


def route(
    raw: RawBatch, normalized: NormalizedBatch, validated: ValidatedBatch, contract: Contract
) -> RoutedBatch:
    """Decide each row's fate under the contract's policy: the stages chain, each
    taking what the one before it made.

    The normalized batch's ``header_map`` (header in the file -> contract column) lets
    each error carry the value exactly as read.
    """
    typed, failures, frame = validated.typed, validated.failures, normalized.frame
    failing = failures["_row"].unique()
    duplicates = 0
    duplicate_records: tuple[int, ...] = ()
    duplicates_frame = no_duplicates()
    extra: list[pl.DataFrame] = []
    if contract.primary_key:
        repeats = _key_repeats(typed, failing, contract.primary_key)
        exact = repeats.filter("exact")
        duplicates = exact.height
        duplicate_records = tuple(exact[RECORD_COLUMN].head(100).to_list())
        duplicates_frame = _duplicates_frame(typed, exact, contract)
        conflicts = repeats.filter(~pl.col("exact"))
        if conflicts.height:
            extra.append(
                conflicts.select(
                    "_row",
                    pl.lit(DUPLICATE_KEY_RULE).alias("rule"),
                    pl.lit(None, dtype=pl.String).alias("column"),
                    pl.col("_key").alias("value"),
                    pl.format(
                        "key {} already seen at record {} of this batch with different values",
                        "_key",
                        "_first_record",
                    ).alias("message"),
                )
            )
        removed = repeats["_row"]
    else:
        removed = pl.Series("_row", [], dtype=pl.UInt32)
    finding = header_finding(normalized.unknown_columns, normalized.missing_columns)
    failures = with_header_finding(failures, normalized.missing_columns, finding)
    all_failures = concat_failures(
        [with_raw_values(failures, raw.frame, normalized.header_map), *extra]
    )
    rows_in = raw.rows_in
    bad = all_failures["_row"].n_unique() + len(raw.rejects)
    held = hold_reason(contract, bad, rows_in, normalized.missing_columns, frame.width - 1, finding)
    candidates = pl.concat([all_failures["_row"], removed.cast(pl.UInt32)])
    passing = typed.with_row_index("_row").filter(~pl.col("_row").is_in(candidates.implode()))
    judgement = judge_batch(passing.drop("_row"), contract)  # None: no batch expectations
    held = with_judgement(held, judgement)
    if held:
        failing_rows = all_failures["_row"].unique()
        everything_else = pl.DataFrame(
            {"_row": pl.int_range(typed.height, dtype=pl.UInt32, eager=True)}
        ).filter(
            ~pl.col("_row").is_in(removed.implode()) | pl.col("_row").is_in(failing_rows.implode())
        )
        held_failures = everything_else.select(
            "_row",
            pl.lit(HELD_RULE).alias("rule"),
            pl.lit(None, dtype=pl.String).alias("column"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.lit(held).alias("message"),
        )
        all_failures = concat_failures([all_failures, held_failures])
    quarantined_rows = all_failures["_row"].unique()
    gone = pl.concat([quarantined_rows, removed.cast(pl.UInt32)]).unique()
    load = typed.with_row_index("_row").filter(~pl.col("_row").is_in(gone.implode())).drop("_row")
    quarantine = pl.concat(
        [quarantine_rows(raw.frame, frame, all_failures), reject_rows(raw.rejects)]
    )
    counts = all_failures.group_by("rule").agg(pl.col("_row").n_unique().alias("n")).sort("rule")
    failure_counts = {r: int(n) for r, n in counts.iter_rows()}
    for r in raw.rejects:
        rule = reject_rule(r.reason)
        failure_counts[rule] = failure_counts.get(rule, 0) + 1
    routed = RoutedBatch(
        source=contract.source,
        location=raw.location,
        content_sha256=raw.content_sha256,
        contract_version=contract.version,
        contract_hash=contract.content_hash,
        rows_in=rows_in,
        load=load,
        quarantine=quarantine,
        duplicates=duplicates,
        duplicate_records=duplicate_records,
        duplicate_rows=duplicates_frame,
        held=held,
        normalize_counts=dict(normalized.rule_counts),
        failure_counts=failure_counts,
        unknown_columns=normalized.unknown_columns,
        missing_columns=normalized.missing_columns,
        header_finding=finding,
        expectations=with_row_results(
            judgement.summary if judgement else None, contract, failure_counts, rows_in
        ),
        warnings=(judgement.warning,) if judgement and judgement.warning else (),
        raw_frame=raw.frame,
        normalized_frame=frame,
    )
    routed.check_conservation()
    return routed


def with_raw_values(
    failures: pl.DataFrame, raw_frame: pl.DataFrame, header_map: dict[str, str]
) -> pl.DataFrame:
    """Replace each failure's value by the cell exactly as read from the source."""
    feeds = {column: header for header, column in header_map.items()}
    if failures.is_empty() or not feeds:
        return failures
    parts = []
    for (column,), group in failures.group_by("column", maintain_order=True):
        header = feeds.get(str(column)) if column is not None else None
        if header is None:
            parts.append(group)
            continue
        cells = raw_frame.get_column(header).cast(pl.String).gather(group["_row"])
        parts.append(group.with_columns(cells.alias("value")))
    return concat_failures(parts)


def with_header_finding(
    failures: pl.DataFrame, missing: tuple[str, ...], finding: str | None
) -> pl.DataFrame:
    """Each ``<column>.not_null`` failure of a column missing from the header says so,
    with the header finding (:func:`tidegate.normalize.header_finding`), instead of
    "is required but missing"."""
    if not missing or not finding or failures.is_empty():
        return failures
    rules = [f"{c}.not_null" for c in missing]
    return failures.with_columns(
        pl.when(pl.col("rule").is_in(rules))
        .then(pl.lit(f"the column is not in the file's header: {finding}"))
        .otherwise(pl.col("message"))
        .alias("message")
    )


def with_judgement(held: str | None, judgement: BatchJudgement | None) -> str | None:
    """Why the batch is held, with its failed batch expectations under
    ``on_batch_failure: hold`` (:func:`tidegate.validate.judge_batch`) after the policy's
    reason, if any."""
    reason = judgement.hold_reason if judgement is not None else None
    if reason is None:
        return held
    return f"{held}; {reason}" if held else reason


def hold_reason(
    contract: Contract,
    bad: int,
    rows_in: int,
    missing: tuple[str, ...],
    n_columns: int,
    finding: str | None = None,
) -> str | None:
    """Why the whole batch is held under the contract's policy, or None: ``bad`` of
    ``rows_in`` records failed, ``missing`` of its ``n_columns`` columns are absent.
    The header ``finding`` (missing and unknown columns, the rename that would fix
    them) comes first: it is usually the cause of the rest."""
    reason = _policy_reason(contract, bad, rows_in, missing, n_columns)
    return f"{finding}; {reason}" if reason and finding else reason


def _policy_reason(
    contract: Contract, bad: int, rows_in: int, missing: tuple[str, ...], n_columns: int
) -> str | None:
    if rows_in == 0:
        return None
    if n_columns and len(missing) == n_columns:
        return (
            "no column of the contract was found in the header "
            f"(expected {', '.join(contract.column_names)}); is this the right file?"
        )
    ratio = bad / rows_in
    policy = contract.policy
    if policy.on_row_failure == "fail_batch" and bad:
        return f"{bad} of {rows_in} rows failed and the contract's on_row_failure is fail_batch"
    if ratio > policy.max_quarantine_ratio:
        return (
            f"quarantine ratio {ratio:.3f} ({bad} of {rows_in} rows) is above "
            f"max_quarantine_ratio {policy.max_quarantine_ratio}; nothing was loaded"
        )
    return None
