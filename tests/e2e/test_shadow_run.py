"""A pipeline that names ``shadow:`` runs through the real CLI, on both stores, in one
piece and in chunks: each batch's audit entry carries ``detail.shadow`` (what the
candidate would change, row by row), the run prints it, and the target table and the
quarantine hold exactly what the current contract decides (nothing under the
candidate). A candidate for another source, or a broken one, is refused before any
data moves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from helpers import make_sales_project, query
from store_backends import store_arg
from tidegate import EXIT_OK
from tidegate.cli import app
from tidegate.store import DuckDBStore, Store

runner = CliRunner()

# current contract: amount >= 0; the candidate: amount <= 40 (and no lower bound)
DATA = "id,amount\n1,10\n2,-1\n3,30\n4,45\n5,50\n6,-2\n7,20\n"
CANDIDATE = "schemas/sales.v2.yaml"


def shadow_project(root: Path, *, chunk_size: int | None = None, **candidate: Any) -> Path:
    """The sales project over DATA, its pipeline shadowing ``schemas/sales.v2.yaml``."""
    project = make_sales_project(root, {"a.csv": DATA})
    contract = yaml.safe_load((project / "schemas" / "sales.yaml").read_text())
    contract.update(version=2)
    contract["columns"]["amount"]["checks"] = [{"le": 40}]
    contract.update(candidate)
    (project / CANDIDATE).write_text(yaml.safe_dump(contract))
    set_pipeline(project, shadow=CANDIDATE, chunk_size=chunk_size)
    return project


def set_pipeline(project: Path, *, chunk_size: int | None = None, **keys: Any) -> None:
    path = project / "pipelines" / "sales.yaml"
    pipeline = yaml.safe_load(path.read_text())
    pipeline.update(keys)
    if chunk_size is not None:
        pipeline["source"]["chunk_size"] = chunk_size
    path.write_text(yaml.safe_dump(pipeline))


def run(project: Path, store: Store, *extra: str) -> tuple[int, str]:
    args = ["run", "sales", "--project", str(project), "--store", store_arg(store), *extra]
    result = runner.invoke(app, args)
    return result.exit_code, " ".join(result.output.split())


def batch_details(store: Store) -> list[dict[str, Any]]:
    """The details of the store's batch audit entries, in order; [] when the store
    holds no audit at all (nothing was ever written)."""
    if isinstance(store, Path | DuckDBStore) and not Path(str(store)).exists():
        return []
    made = query(
        store,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = 'audit' AND table_schema = current_schema()",
    )
    if not made[0][0]:
        return []
    rows = query(store, "SELECT detail FROM audit WHERE event LIKE 'batch_%' ORDER BY seq")
    return [json.loads(d) for (d,) in rows]


def current_decision(store: Store) -> tuple[list[int], list[tuple[int, str]]]:
    """The loaded records and the quarantined (record, rules) of the store."""
    loaded = query(store, "SELECT _tidegate_record FROM sales ORDER BY _tidegate_record")
    quarantined = query(store, "SELECT record, rules FROM quarantine ORDER BY record")
    return [int(r) for (r,) in loaded], [(int(r), str(rules)) for r, rules in quarantined]


def test_a_shadowed_run_audits_what_the_candidate_would_change(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    project = shadow_project(tmp_path / "p")
    code, output = run(project, store)
    assert code == EXIT_OK, output
    loaded, quarantined = current_decision(store)
    # the current contract decides alone: amount < 0 quarantined, 45 and 50 loaded
    assert {rules for _, rules in quarantined} == {"amount.ge"}
    assert len(loaded) == 5 and len(quarantined) == 2
    amounts = dict(query(store, "SELECT _tidegate_record, amount FROM sales"))
    over = sorted(int(r) for r, a in amounts.items() if a > 40)
    (detail,) = batch_details(store)
    shadow = detail["shadow"]
    assert shadow["contract"] == CANDIDATE
    assert shadow["version"] == 2 and len(shadow["content_hash"]) == 64
    assert (shadow["rows"], shadow["passed"], shadow["quarantined"]) == (7, 5, 2)
    assert (shadow["newly_passed"], shadow["newly_failed"]) == (2, 2)
    assert shadow["newly_failed_by_rule"] == {"amount.le": 2}
    assert shadow["newly_passed_by_rule"] == {"amount.ge": 2}
    assert shadow["samples"] == {
        "newly_failed": over,
        "newly_passed": [r for r, _ in quarantined],
    }
    assert shadow["held"] is None
    line = (
        f"a.csv: shadow {CANDIDATE} (v2): +2 would pass, \u22122 would fail (amount.le 2); "
        f"samples: records {over[0]}, {over[1]}"
    )
    assert line in output


def test_a_streamed_file_gives_the_same_shadow_as_one_piece(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    project = shadow_project(tmp_path / "p")
    code, output = run(project, store)
    assert code == EXIT_OK, output
    set_pipeline(project, chunk_size=2)
    code, output = run(project, store, "--reprocess")
    assert code == EXIT_OK, output
    whole, streamed = batch_details(store)
    assert "chunks" not in whole and streamed["chunks"] == 4
    assert streamed["shadow"] == whole["shadow"]
    assert streamed["shadow"]["newly_failed"] == 2


@pytest.mark.parametrize("chunk_size", [None, 2])
def test_a_candidate_that_would_hold_the_batch_says_so_and_holds_nothing(
    tmp_path: Path, store: Store, prefect_api: str, chunk_size: int | None
) -> None:
    project = shadow_project(
        tmp_path / "p", chunk_size=chunk_size, policy={"max_quarantine_ratio": 0.1}
    )
    code, output = run(project, store)
    assert code == EXIT_OK, output  # the current contract loads the batch
    (detail,) = batch_details(store)
    assert detail["held"] is None and detail["loaded"] == 5
    held = detail["shadow"]["held"]
    assert held.startswith("quarantine ratio 0.286 (2 of 7 rows) is above max_quarantine_ratio 0.1")
    assert "would hold the batch: quarantine ratio 0.286" in output
    assert query(store, "SELECT count(*) FROM quarantine WHERE rules LIKE '%held%'") == [(0,)]


def test_a_run_without_shadow_records_none(tmp_path: Path, store: Store, prefect_api: str) -> None:
    project = make_sales_project(tmp_path / "p", {"a.csv": DATA})
    code, output = run(project, store)
    assert code == EXIT_OK, output
    (detail,) = batch_details(store)
    assert "shadow" not in detail and "would pass" not in output


def refused(project: Path, store: Store) -> str:
    code, output = run(project, store)
    assert code == 2, output
    assert "Traceback" not in output
    assert batch_details(store) == []  # refused before any data moved
    return output


def test_a_candidate_for_another_source_is_refused_before_any_data_moves(
    tmp_path: Path, store: Store
) -> None:
    project = shadow_project(tmp_path / "p", source="refunds")
    output = refused(project, store)
    assert f"shadow: '{CANDIDATE}' is a contract for source 'refunds'" in output
    assert "sales.yaml is for 'sales'" in output


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("source: sales\nversion: 2\ncolumns: {id: {type: int65}}\n", "int65"),
        ("source: sales\n  version: [\n", "well-formed YAML"),
    ],
    ids=["bad type", "not YAML"],
)
def test_a_broken_candidate_is_refused_before_any_data_moves(
    tmp_path: Path, store: Store, text: str, said: str
) -> None:
    project = shadow_project(tmp_path / "p")
    (project / CANDIDATE).write_text(text)
    output = refused(project, store)
    assert f"shadow: '{CANDIDATE}' is not a valid contract" in output and said in output


def test_a_missing_candidate_is_refused(tmp_path: Path, store: Store) -> None:
    project = shadow_project(tmp_path / "p")
    (project / CANDIDATE).unlink()
    output = refused(project, store)
    assert f"shadow: '{CANDIDATE}' does not exist" in output
