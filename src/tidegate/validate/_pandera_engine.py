"""The ``"pandera"`` validation engine: the contract compiled to pandera (polars) schemas.

pandera is imported on first use (about half a second), not with this module.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tidegate.batches import concat_failures
from tidegate.contracts._model import CheckSpec, Contract
from tidegate.errors import ConfigError


def check_message(check: CheckSpec) -> str:
    a = check.args
    match check.kind:
        case "ge" | "gt" | "le" | "lt":
            op = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[check.kind]
            return f"must be {op} {a}"
        case "between":
            return f"must be between {a[0]} and {a[1]}"
        case "isin":
            return f"must be one of {list(a)}"
        case "notin":
            return f"must not be one of {list(a)}"
        case "regex":
            return f"must match {a}"
        case "str_length":
            return f"length must be within {a}"
        case "expr":
            return f"must satisfy {a}"
    return f"failed {check.kind}"


def _messages(contract: Contract) -> dict[str, str]:
    messages: dict[str, str] = {}
    for c in contract.columns:
        messages[f"{c.name}.not_null"] = "is required but missing or a null token"
        messages[f"{c.name}.unique"] = "must be unique within the batch"
        for check in c.checks:
            messages[check.rule_id] = check_message(check)
    return messages


def _to_long_form(cases: pl.DataFrame, messages: dict[str, str]) -> pl.DataFrame:
    """pandera failure cases -> tidegate's long form, with stable rule ids."""
    from tidegate.contracts import with_rule_ids

    return with_rule_ids(cases).select(
        pl.col("index").cast(pl.UInt32).alias("_row"),
        "rule",
        "column",
        pl.col("failure_case").cast(pl.String).alias("value"),
        pl.col("rule")
        .replace_strict(messages, default=None, return_dtype=pl.String)
        .fill_null(pl.concat_str(pl.lit("failed "), pl.col("check")))
        .alias("message"),
    )


class PanderaEngine:
    """The contract's own columns and checks, through pandera on polars."""

    kind = "pandera"

    def applies_to(self, contract: Contract) -> bool:
        return True

    def row_failures(self, typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
        return pandera_failures(typed, contract)


def pandera_failures(
    typed: pl.DataFrame, contract: Contract, *, prescreen: bool = True
) -> pl.DataFrame:
    """Every failure pandera finds in ``typed``, in tidegate's long form.

    The contract's own schema validates only the rows that fail one of its row checks
    (:mod:`tidegate.validate._prescreen`), with pandera's ``index`` mapped back to
    positions in ``typed``; ``prescreen=False`` validates the whole frame, as does a
    frame that cannot be pre-screened. A ``model:``'s schema validates the whole frame:
    its checks are the model's own."""
    from tidegate.contracts._pandera import to_pandera_schemas
    from tidegate.validate._prescreen import prescreened

    frames: list[pl.DataFrame] = []
    data = typed.drop("_tidegate_record")
    own, *others = to_pandera_schemas(contract)
    screened = prescreened(data, contract) if prescreen else None
    judged = [(own, screened), *((schema, None) for schema in others)]
    for schema, subset in judged:
        cases = _failure_cases(schema, data if subset is None else subset[0])
        if subset is not None and cases is not None and _beyond(cases, subset[0].height):
            # pandera placed a failure on no row of the subset: judge the whole frame
            subset, cases = None, _failure_cases(schema, data)
        if cases is None:
            continue
        unplaced = cases.filter(pl.col("index").is_null())
        if unplaced.height:
            first = unplaced.row(0, named=True)
            raise ConfigError(
                f"contract {contract.path}: check {first['check']!r} on column "
                f"{first['column']!r} failed for the batch as a whole "
                f"({first['failure_case']}); fix the contract or its model"
            )
        if subset is not None:
            cases = cases.with_columns(index=subset[1].gather(cases["index"]))
        frames.append(_to_long_form(cases, _messages(contract)))
    return concat_failures(frames)


def _beyond(cases: pl.DataFrame, height: int) -> bool:
    """Whether a failure case is placed at a row index the frame does not have."""
    top = cases.get_column("index").max()
    return top is not None and int(top) >= height  # type: ignore[arg-type]


def _failure_cases(schema: Any, frame: pl.DataFrame) -> pl.DataFrame | None:
    """pandera's ``failure_cases`` for ``frame`` (lazy validation), None when it passes."""
    import pandera.errors

    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases: pl.DataFrame = exc.failure_cases
        return cases
    return None
