"""`tidegate schema promote` on both stores: refused on failing gates, on no shadow data
and on figures of another text (exit 3, the file untouched, nothing audited); done when
the gates pass or with --force (the file replaced, ``contract_promoted`` audited)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import query
from shadow_support import append_batches, candidate_hash, make_project, shadowed_history, tg
from tidegate.contracts import load_contract
from tidegate.store import Store

FAILING = {"new_failures_ratio": {"lt": 0.001}}
PASSING = {"new_failures_ratio": {"lt": 0.02}, "batches": {"ge": 3}}


def promotions(store: Store) -> list[dict[str, object]]:
    rows = query(store, "SELECT source, actor, detail FROM audit WHERE event = 'contract_promoted'")
    return [{"source": r[0], "actor": r[1], **json.loads(r[2])} for r in rows]


def current_text(root: Path) -> bytes:
    return (root / "schemas" / "orders.yaml").read_bytes()


def test_failing_gates_refuse_with_exit_3_naming_each_gate(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", FAILING)
    shadowed_history(store, root)
    before = current_text(root)
    result = tg(store, root, "schema", "promote", "orders", "--yes")
    assert result.exit_code == 3, result.output
    text = " ".join(result.output.split())
    assert "gate new_failures_ratio 0.0125 < 0.001: fails" in text
    assert "not promoted" in text and "--force" in text
    assert current_text(root) == before and promotions(store) == []


def test_passing_gates_promote_the_candidate_text(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", PASSING)
    shadowed_history(store, root)
    old = load_contract(root / "schemas" / "orders.yaml")
    candidate = (root / "schemas" / "orders.v4.yaml").read_bytes()
    result = tg(store, root, "schema", "promote", "orders", "--yes")
    assert result.exit_code == 0, result.output
    assert current_text(root) == candidate  # byte for byte, its comment too
    text = " ".join(result.output.split())
    assert "the next run commits under version 4" in text
    assert "still names shadow: schemas/orders.v4.yaml" in text
    [entry] = promotions(store)
    assert entry["source"] == "orders" and entry["actor"] == "alice"
    assert entry["from"] == {"version": 3, "content_hash": old.content_hash}
    assert entry["to"] == {"version": 4, "content_hash": candidate_hash(root)}
    assert entry["path"] == "schemas/orders.yaml" and entry["forced"] is False
    shadow = entry["shadow"]
    assert isinstance(shadow, dict)
    assert (shadow["batches"], shadow["rows"], shadow["newly_failed"]) == (3, 400, 5)
    gates = entry["gates"]
    assert isinstance(gates, list) and {g["metric"] for g in gates} == set(PASSING)
    assert all(g["passed"] for g in gates)
    # promoted: the candidate and the current contract now hold the same text
    again = tg(store, root, "schema", "promote", "orders", "--yes")
    assert again.exit_code == 2 and "hold the same text" in again.output
    assert len(promotions(store)) == 1


def test_force_overrides_failing_gates_and_is_audited(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", FAILING)
    shadowed_history(store, root)
    result = tg(store, root, "schema", "promote", "orders", "--force", "--yes")
    assert result.exit_code == 0, result.output
    assert "forced over: gate new_failures_ratio" in " ".join(result.output.split())
    assert current_text(root) == (root / "schemas" / "orders.v4.yaml").read_bytes()
    [entry] = promotions(store)
    assert entry["forced"] is True
    assert entry["forced_over"] == ["gate new_failures_ratio 0.0125 < 0.001: fails"]
    assert [g["passed"] for g in entry["gates"]] == [False]  # type: ignore[union-attr]


def test_no_shadow_data_refuses_unless_forced(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    append_batches(store, [("b-plain", "batch_committed", None)])  # a batch, not shadowed
    before = current_text(root)
    result = tg(store, root, "schema", "promote", "orders", "--yes")
    assert result.exit_code == 3, result.output
    assert "no batch of orders has been shadowed yet" in " ".join(result.output.split())
    assert current_text(root) == before and promotions(store) == []
    forced = tg(store, root, "schema", "promote", "orders", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    [entry] = promotions(store)
    assert entry["forced"] is True and entry["shadow"]["batches"] == 0  # type: ignore[index]


def test_figures_of_another_candidate_text_refuse(store: Store, tmp_path: Path) -> None:
    """The candidate file changed after its batches were shadowed: the figures are not
    of the text that would be promoted."""
    root = make_project(tmp_path / "p", PASSING)
    shadowed_history(store, root)
    path = root / "schemas" / "orders.v4.yaml"
    path.write_text(path.read_text().replace("500", "400"))
    result = tg(store, root, "schema", "promote", "orders", "--yes")
    assert result.exit_code == 3, result.output
    assert "the shadow figures are of another candidate text" in " ".join(result.output.split())
    assert promotions(store) == []


def test_without_a_shadow_key_promote_says_what_to_add(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", shadow=False)
    result = tg(store, root, "schema", "promote", "orders", "--yes")
    assert result.exit_code == 2
    assert "names no candidate contract; add `shadow: FILE`" in " ".join(result.output.split())


def test_without_yes_a_declined_prompt_changes_nothing(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", PASSING)
    shadowed_history(store, root)
    before = current_text(root)
    from shadow_support import runner
    from store_backends import store_arg
    from tidegate.cli import app

    result = runner.invoke(
        app,
        ["schema", "promote", "orders", "--project", str(root), "--store", store_arg(store)],
        input="n\n",
    )
    assert result.exit_code == 1 and "write " in result.output
    assert current_text(root) == before and promotions(store) == []


def test_a_candidate_suite_is_written_where_the_promoted_text_looks(
    store: Store, tmp_path: Path
) -> None:
    """A candidate in another folder naming its GX suite by a relative path: the suite
    goes beside the current contract, so the promoted text finds the same suite."""
    import yaml

    from shadow_support import contract, shadow

    root = make_project(tmp_path / "p", PASSING)
    folder = root / "schemas" / "next"
    folder.mkdir()
    not_null = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}}
    suite = {"name": "orders", "expectations": [not_null]}
    (folder / "orders.v4.gx.json").write_text(json.dumps(suite))
    text = yaml.safe_dump({**contract(4, 500), "expectations": {"suite": "orders.v4.gx.json"}})
    (folder / "orders.v4.yaml").write_text(text)
    pipeline = root / "pipelines" / "orders.yaml"
    pipeline.write_text(
        pipeline.read_text().replace("schemas/orders.v4.yaml", "schemas/next/orders.v4.yaml")
    )
    h = load_contract(folder / "orders.v4.yaml").content_hash
    append_batches(
        store, [(f"b{n}", "batch_committed", shadow(h, 100, 0, 0, {}, [])) for n in range(3)]
    )
    result = tg(store, root, "schema", "promote", "orders", "--yes")
    assert result.exit_code == 0, result.output
    assert (root / "schemas" / "orders.v4.gx.json").read_text() == json.dumps(suite)
    assert current_text(root) == text.encode()
    assert load_contract(root / "schemas" / "orders.yaml").content_hash == h
    [entry] = promotions(store)
    assert entry["suite"] == "schemas/orders.v4.gx.json" and entry["to"]["content_hash"] == h  # type: ignore[index]


def test_a_run_in_progress_holds_promote_back(store: Store, tmp_path: Path) -> None:
    """Another holder of the source's run lock (a thread here, as a run would hold it)."""
    import threading

    root = make_project(tmp_path / "p", PASSING)
    shadowed_history(store, root)
    before = current_text(root)
    taken, done = threading.Event(), threading.Event()

    def run() -> None:
        with store.source_lock("orders"):
            taken.set()
            done.wait(60)

    holder = threading.Thread(target=run)
    holder.start()
    try:
        assert taken.wait(30)
        result = tg(store, root, "schema", "promote", "orders", "--yes")
    finally:
        done.set()
        holder.join()
    assert result.exit_code == 2 and "a run of orders is in progress" in result.output
    assert current_text(root) == before and promotions(store) == []
