"""The rows pandera has something to say about, found in one select.

pandera runs each check of a schema as a collect of its own and builds failure cases
for it, and most rows pass every check. The contract's own row checks
(:func:`tidegate.contracts._check_exprs.row_checks`: not-null, unique and the declared
checks, the very expressions its pandera checks select) are evaluated here at once;
pandera then validates only the rows that fail one of them (no rows when none do, so a
wrong dtype or a missing column is still pandera's to report) and stays the judge of
every failing row's reasons.

pandera says of those rows what it would say of them in the whole frame:

* a row-local check judges a row by that row alone;
* ``unique`` judges a row by the rows sharing its value: a repeated value fails on
  every row holding it, so all of them are in the subset, and a value held once in the
  frame is held once in the subset;
* an ``expr`` check may look at other rows (an aggregate, a window): its verdicts on
  the subset are compared with its verdicts on the whole frame, and the whole frame
  goes to pandera when they differ.

A frame is not pre-screened (pandera validates it whole, as it always did) when a
contract column is missing or not of its declared type, or when a check raises or does
not give one boolean per row.
"""

from __future__ import annotations

import polars as pl

from tidegate.contracts._check_exprs import RowCheck, row_checks
from tidegate.contracts._model import Contract
from tidegate.contracts._types import polars_dtype


def prescreened(data: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, pl.Series] | None:
    """``(subset, rows)``: the rows of ``data`` failing at least one of the contract's
    own row checks and their positions in ``data`` (UInt32, ascending); None when
    ``data`` cannot be pre-screened (see the module docstring)."""
    if not _in_declared_types(data, contract):
        return None
    checks = {str(i): check for i, check in enumerate(row_checks(contract))}
    verdicts = _verdicts(data, checks)
    if verdicts is None:
        return None
    failing = verdicts.select(pl.all_horizontal(pl.all()).not_()).to_series()
    subset = data.filter(failing)
    looking_around = {name: check for name, check in checks.items() if not check.row_local}
    if looking_around:
        again = _verdicts(subset, looking_around)
        if again is None or not again.equals(verdicts.select(list(looking_around)).filter(failing)):
            return None
    return subset, failing.arg_true().cast(pl.UInt32)


def _in_declared_types(data: pl.DataFrame, contract: Contract) -> bool:
    schema = data.schema
    return all(c.name in schema and schema[c.name] == polars_dtype(c) for c in contract.columns)


def _verdicts(data: pl.DataFrame, checks: dict[str, RowCheck]) -> pl.DataFrame | None:
    """One boolean column per check (named by its key), true where a row passes (a null
    passes, as pandera lets it); None when a check raises or does not give one boolean
    per row (pandera reports it, judging the whole frame). The row-local checks are
    evaluated in one select, each other check in a select of its own (in one with
    others, a single value would be broadcast to every row)."""
    local = {name: check for name, check in checks.items() if check.row_local}
    groups = [local, *({name: check} for name, check in checks.items() if not check.row_local)]
    frames = []
    for group in (g for g in groups if g):
        try:
            verdicts = data.select(check.passes.alias(name) for name, check in group.items())
        except Exception:  # a check that raises: pandera's to report
            return None
        if verdicts.height != data.height or any(t != pl.Boolean for t in verdicts.dtypes):
            return None
        frames.append(verdicts)
    if not frames:
        return pl.DataFrame({"pass": pl.Series([True] * data.height, dtype=pl.Boolean)})
    return pl.concat(frames, how="horizontal").fill_null(True)
