"""The sample pipelines' monitor sections stay quiet on the sample data (so `tidegate
demo` raises no alert), yet still profile every batch."""

from __future__ import annotations

from pathlib import Path

from helpers import process, scalar
from tidegate.contracts import load_contract
from tidegate.monitor import monitor_batch
from tidegate.pipelines import find_pipeline
from tidegate.sources import FileBatch, RawBatch, source_from_config
from tidegate.store import Store, commit_batch


def test_the_sample_data_raises_no_alert(project_root: Path, store: Store) -> None:
    batches = 0
    for name in ("orders", "customers", "inventory"):
        spec = find_pipeline(project_root, name)
        contract = load_contract(spec.contract_path)
        for file in source_from_config(name, spec.source, project_root).read():
            item = file.collect() if isinstance(file, FileBatch) else file
            if not isinstance(item, RawBatch):
                continue
            routed = process(item, contract)
            outcome = commit_batch(store, routed, contract)
            alerts = monitor_batch(store, spec.monitor, routed, outcome, contract)
            assert alerts == [], [a.message for a in alerts]
            batches += 1
    assert batches == 4
    assert scalar(store, "SELECT count(*) FROM profiles") == 4
    assert scalar(store, "SELECT count(*) FROM audit WHERE event LIKE 'alert%'") == 0


def test_pii_values_stay_out_of_the_profile(project_root: Path, store: Store) -> None:
    spec = find_pipeline(project_root, "customers")
    contract = load_contract(spec.contract_path)
    (file,) = list(source_from_config("customers", spec.source, project_root).read())
    assert isinstance(file, FileBatch)
    item = file.collect()
    assert isinstance(item, RawBatch)
    routed = process(item, contract)
    monitor_batch(store, spec.monitor, routed, commit_batch(store, routed, contract), contract)
    profile = scalar(store, "SELECT profile FROM profiles")
    assert "@example" not in profile
    assert '"pii":true' in profile
