"""The shadow comparison (:mod:`tidegate.engine._shadow`) and ``contract.shadow(frame,
candidate)``: rows that would newly pass or newly fail, by rule, sample record ids
capped, exact duplicates not judged, the candidate's hold apart from the rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from helpers import make_contract
from tidegate import Pipeline, ShadowVerdict, Verdict
from tidegate.engine._shadow import SAMPLES, ShadowTally, compare
from tidegate.errors import ContractError, PipelineError
from tidegate.pipelines import load_pipeline
from tidegate.pipelines._spec import load_shadow
from tidegate.rules import HELD_RULE
from tidegate.store import Store

COLUMNS = {  # make_contract's, but amount
    "order_id": {"type": "int64", "nullable": False},
    "status": {"type": "string", "checks": [{"isin": ["pending", "shipped"]}]},
    "order_date": {"type": "date"},
}
ROW = {"order_id": "1", "status": "shipped", "amount": "10.00", "order_date": "2024-01-02"}


def quarantine(rows: dict[int, str]) -> pl.DataFrame:
    """A quarantine frame as routing makes it: record -> comma-separated rules."""
    return pl.DataFrame(
        {"record": list(rows), "rules": list(rows.values())},
        schema={"record": pl.Int64, "rules": pl.String},
    )


def test_rows_newly_failing_and_newly_passing_are_counted_by_rule() -> None:
    current = quarantine({2: "amount.ge", 3: "amount.ge,status.isin", 5: "status.isin"})
    candidate = quarantine({5: "status.isin", 6: "amount.le", 7: "amount.le,status.isin"})
    tally = compare(current, candidate, rows=10)
    assert (tally.judged, tally.quarantined) == (10, 3)
    assert (tally.newly_failed, tally.newly_passed) == (2, 2)
    assert tally.newly_failed_by_rule == {"amount.le": 2, "status.isin": 1}
    assert tally.newly_passed_by_rule == {"amount.ge": 2, "status.isin": 1}
    assert (tally.failed_samples, tally.passed_samples) == ((6, 7), (2, 3))


def test_samples_are_capped_and_tallies_add_up() -> None:
    first = compare(quarantine({}), quarantine({r: "amount.le" for r in range(20, 28)}), rows=8)
    second = compare(quarantine({r: "amount.ge" for r in range(1, 4)}), quarantine({}), rows=5)
    assert len(first.failed_samples) == SAMPLES == 5
    total = first + second
    assert (total.judged, total.newly_failed, total.newly_passed) == (13, 8, 3)
    assert total.failed_samples == (20, 21, 22, 23, 24)
    assert total.passed_samples == (1, 2, 3)
    assert total + ShadowTally() == total


def test_the_hold_is_not_a_rows_verdict_and_duplicates_are_not_judged() -> None:
    # the current batch held: record 4 only carries the hold, record 2 its own rule too
    current = quarantine({2: f"amount.ge,{HELD_RULE}", 4: HELD_RULE})
    candidate = quarantine({4: "amount.le", 9: "amount.le"})
    tally = compare(current, candidate, rows=8, duplicates=pl.Series([9]))
    assert tally.newly_failed_by_rule == {"amount.le": 1}  # record 4, not the duplicate 9
    assert tally.newly_passed_by_rule == {"amount.ge": 1}
    assert tally.quarantined == 1


def test_contract_shadow_compares_two_verdicts_on_a_frame() -> None:
    current = make_contract()
    amount = {"type": "decimal(12,2)", "checks": [{"le": 50}]}  # no lower bound, an upper one
    candidate = make_contract(version=2, columns={**COLUMNS, "amount": amount})
    frame = pl.DataFrame(
        [
            ROW,
            {**ROW, "order_id": "2", "amount": "-1"},  # fails now, passes the candidate
            {**ROW, "order_id": "3", "amount": "60"},  # passes now, fails the candidate
            ROW,  # an exact duplicate: not judged
        ]
    )
    shadow = current.shadow(frame, candidate)
    assert isinstance(shadow, ShadowVerdict)
    assert isinstance(shadow.current, Verdict) and isinstance(shadow.candidate, Verdict)
    assert shadow.current.quarantine["record"].to_list() == [2]
    assert shadow.candidate.quarantine["record"].to_list() == [3]
    assert (shadow.rows, shadow.passed, shadow.quarantined) == (3, 2, 1)
    assert (shadow.newly_passed, shadow.newly_failed) == (1, 1)
    assert shadow.newly_failed_by_rule == {"amount.le": 1}
    assert shadow.newly_passed_by_rule == {"amount.ge": 1}
    assert shadow.samples == {"newly_failed": [3], "newly_passed": [2]}
    assert shadow.held is None
    assert shadow.version == 2 and shadow.content_hash == candidate.content_hash
    assert set(shadow.as_dict()) == {
        "contract",
        "version",
        "content_hash",
        "rows",
        "passed",
        "quarantined",
        "newly_passed",
        "newly_failed",
        "newly_failed_by_rule",
        "newly_passed_by_rule",
        "samples",
        "held",
    }
    assert "newly_failed=1" in repr(shadow)


def test_a_candidate_that_would_hold_the_frame_says_why() -> None:
    policy = {"on_row_failure": "fail_batch", "on_existing_key": "update"}
    candidate = make_contract(version=2, policy=policy)
    shadow = make_contract().shadow([ROW, {**ROW, "order_id": "2", "amount": "-1"}], candidate)
    assert shadow.held is not None and "fail_batch" in shadow.held
    assert shadow.candidate.held == shadow.held and shadow.current.held is None
    assert (shadow.newly_failed, shadow.newly_passed) == (0, 0)  # the rows judge alike


def test_a_candidate_for_another_source_is_refused() -> None:
    with pytest.raises(ContractError, match="same source as the current contract"):
        make_contract().shadow([ROW], make_contract(source="refunds"))


def write_project(root: Path, shadow: str, candidate: str | None) -> Path:
    (root / "schemas").mkdir(parents=True)
    (root / "schemas" / "c.yaml").write_text(
        "source: orders\nversion: 1\ncolumns: {id: {type: int64}}\n"
    )
    if candidate is not None:
        (root / "schemas" / "c2.yaml").write_text(candidate)
    path = root / "p.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "source": {"kind": "file", "path": "a.csv"},
                "contract": "schemas/c.yaml",
                "shadow": shadow,
            }
        )
    )
    return path


def test_load_shadow_gives_the_candidate_as_the_pipeline_names_it(tmp_path: Path) -> None:
    from tidegate.contracts import load_contract

    path = write_project(
        tmp_path, "schemas/c2.yaml", "source: orders\nversion: 2\ncolumns: {id: {type: int64}}\n"
    )
    spec = load_pipeline(path, tmp_path)
    assert spec.shadow == "schemas/c2.yaml"
    candidate = load_shadow(spec, load_contract(spec.contract_path))
    assert candidate is not None
    assert candidate.name == "schemas/c2.yaml" and candidate.contract.version == 2


def test_load_shadow_refuses_a_candidate_for_another_source(tmp_path: Path) -> None:
    from tidegate.contracts import load_contract

    path = write_project(
        tmp_path, "schemas/c2.yaml", "source: refunds\nversion: 2\ncolumns: {id: {type: int64}}\n"
    )
    spec = load_pipeline(path, tmp_path)
    with pytest.raises(PipelineError) as refused:
        load_shadow(spec, load_contract(spec.contract_path))
    message = str(refused.value)
    assert "'refunds'" in message and "c.yaml is for 'orders'" in message
    assert "\n" not in message


def test_a_pipeline_run_from_python_shadows_each_batch(store: Store) -> None:
    amount = {"type": "decimal(12,2)", "checks": [{"le": 50}]}
    candidate = make_contract(version=2, columns={**COLUMNS, "amount": amount})
    frame = [
        ROW,
        {**ROW, "order_id": "2", "amount": "-1"},
        {**ROW, "order_id": "3", "amount": "60"},
    ]
    result = Pipeline(frame, make_contract(), store, shadow=candidate).run()
    (outcome,) = result.outcomes
    assert (outcome.loaded, outcome.quarantined) == (2, 1)  # the current contract's verdict
    assert outcome.shadow is not None
    assert outcome.shadow["samples"] == {"newly_failed": [3], "newly_passed": [2]}
    assert outcome.shadow["contract"] == "<memory>"
    (line,) = result.shadow_lines
    assert "shadow <memory> (v2): +1 would pass, \u22121 would fail (amount.le 1)" in line
    with pytest.raises(PipelineError, match="a shadow must be a candidate for the same source"):
        Pipeline(frame, make_contract(), store, shadow=make_contract(source="refunds"))
