"""No personal data in the monitor's profiles (issue 17).

A column the contract marks ``pii`` keeps counts only, a numeric one included (a
``max`` of 999999999999 was a phone number); a header the contract does not declare
keeps no values: no mean, minimum or maximum, no most common values (digests instead,
so a renamed column is still recognised). Both stores, a batch in memory and a file read
in chunks (whose loaded statistics the store computes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import monitor._support as support
from helpers import query
from monitor._support import SALES_CONTRACT, run_batch, sales_rows
from tidegate.contracts import contract_from_dict
from tidegate.engine import Pipeline
from tidegate.monitor import MonitorConfig, ValueDriftConfig
from tidegate.store import Store

PHONES = [str(447700900000 + i * 7919) for i in range(40)]
CANARY_CODES = ("PROMO-ALPHA", "PROMO-BRAVO")  # a category the contract does not declare
SECRET_NUMBERS = [str(900000000000 + i) for i in range(40)]  # an undeclared numeric column
MONITOR = MonitorConfig(schema_drift=True)


def _contract(pii_amount: bool = True) -> dict[str, Any]:
    data = json.loads(json.dumps(SALES_CONTRACT))
    data["columns"]["phone"] = {"type": "int64", "pii": True}
    data["columns"]["amount"]["pii"] = pii_amount
    return data


def _rows() -> list[dict[str, str | None]]:
    rows = sales_rows()
    for i, row in enumerate(rows):
        row["phone"] = PHONES[i]
        row["promo"] = CANARY_CODES[i % 2]
        row["account_no"] = SECRET_NUMBERS[i]
    return rows


def _profiles(store: Store) -> list[dict[str, Any]]:
    return [json.loads(p) for (p,) in query(store, 'SELECT profile FROM profiles ORDER BY "at"')]


def _assert_private(profile: dict[str, Any]) -> None:
    text = json.dumps(profile)
    for value in [*PHONES, *SECRET_NUMBERS, *CANARY_CODES]:
        assert value not in text, f"{value} copied into the profile"
    columns = profile["columns"]
    phone = columns["phone"]
    assert phone["kind"] == "numeric" and phone["count"] == 40 and phone["pii"] is True
    assert not {"mean", "std", "min", "max", "top"} & set(phone)
    amount = columns["amount"]
    assert amount["pii"] is True and not {"mean", "std", "min", "max"} & set(amount)
    assert columns["region"]["top"], "a declared non-PII column keeps its top values"
    account = columns["account_no"]
    assert account["unknown"] is True and account["kind"] == "numeric"
    assert not {"mean", "std", "min", "max", "top"} & set(account)
    assert account["count"] == 40
    promo = columns["promo"]
    assert promo["unknown"] is True and "top" not in promo
    assert sorted(n for _, n in promo["top_digests"]) == [20, 20]


def test_pii_and_undeclared_columns_keep_no_values_in_memory(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = contract_from_dict(_contract())
    monkeypatch.setattr(support, "sales_contract", lambda: contract)
    alerts, outcome, _ = run_batch(store, MONITOR, _rows(), name="jan")
    assert outcome.loaded == 40 and alerts == []
    (profile,) = _profiles(store)
    _assert_private(profile)


def _write_csv(path: Path, rows: list[dict[str, str | None]]) -> Path:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(row[h] or "" for h in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pii_and_undeclared_columns_keep_no_values_read_in_chunks(
    store: Store, tmp_path: Path
) -> None:
    contract = contract_from_dict(_contract())
    csv = _write_csv(tmp_path / "sales.csv", _rows())
    result = Pipeline(
        source=str(csv), contract=contract, store=store, monitor=MONITOR, chunk_size=7
    ).run()
    assert (result.rows_in, result.loaded) == (40, 40)
    (profile,) = _profiles(store)
    _assert_private(profile)


def test_a_renamed_undeclared_column_is_still_recognised_by_its_digests(
    store: Store, tmp_path: Path
) -> None:
    """`region` becomes the undeclared `area`: the digests of `area`'s top values match
    `region`'s values, so drift says renamed, not missing plus new."""
    contract = contract_from_dict(_contract(pii_amount=False))
    first = _write_csv(tmp_path / "jan.csv", _rows())
    renamed = [
        {("area" if k == "region" else k): v for k, v in row.items()}
        for row in sales_rows(first_id=100)
    ]
    second = _write_csv(tmp_path / "feb.csv", renamed)
    for path in (first, second):
        Pipeline(source=str(path), contract=contract, store=store, monitor=MONITOR).run()
    drift = [
        json.loads(d)
        for (d,) in query(store, "SELECT detail FROM audit WHERE event = 'alert_raised'")
    ]
    renames = [d for d in drift if d.get("change") == "renamed"]
    assert [(d["renamed_from"], d["column"]) for d in renames] == [("region", "area")]
    assert "top" not in _profiles(store)[-1]["columns"]["area"]


@pytest.mark.parametrize("pii", [True, False])
def test_mean_shift_is_not_checked_on_a_pii_column(
    store: Store, pii: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With counts only there is no mean to compare: no crash, no alert for PII; the
    same drift on a column that is not PII raises its alert."""
    data = json.loads(json.dumps(SALES_CONTRACT))
    data["columns"]["amount"]["pii"] = pii
    contract = contract_from_dict(data)
    config = MonitorConfig(value_drift=ValueDriftConfig(mean_shift=3.0, ignore=("sale_id",)))
    monkeypatch.setattr(support, "sales_contract", lambda: contract)
    run_batch(store, config, sales_rows(), name="jan")
    rows = sales_rows(first_id=100, amount_base=500)
    alerts, _, _ = run_batch(store, config, rows, name="feb")
    shifts = [a.detail["column"] for a in alerts if a.detail.get("check") == "mean_shift"]
    assert shifts == ([] if pii else ["amount"])
