"""PII never lands in clear in the audit or on a CLI user's screen (issue 12).

On the demo's store (built by the real CLI and flow), on DuckDB and PostgreSQL: an
edit of a PII column stores its values encrypted under the store's key; `audit show
--reveal` decrypts them (audited) until `tidegate store erase-pii-key` destroys the
key, after which they are unrecoverable and the chain still verifies. `quarantine
list/show/export` mask PII unless --reveal, and a reveal is an audit entry.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import query, scalar
from store_backends import store_arg
from tidegate.cli import app
from tidegate.review import contracts_by_source, edit_records
from tidegate.review._masking import mask_value
from tidegate.store import Store
from tidegate.store._review_audit import record_details

pytestmark = pytest.mark.e2e
runner = CliRunner()
CANARY = "canary.4711@example.com"


def tg(store: Store, project_root: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(
        app,
        [*args, "--store", store_arg(store), "--project", str(project_root)],
        env={"TIDEGATE_ACTOR": "alice"},
    )
    assert result.exit_code == code, result.output
    return result.output


def _email_record(store: Store) -> int:
    return int(
        scalar(
            store,
            "SELECT min(id) FROM quarantine WHERE source = 'orders' AND rules = 'email.regex' "
            "AND status = 'pending'",
        )
    )


def _audit_details(store: Store, event: str) -> list[tuple[int, dict]]:
    rows = query(store, "SELECT seq, detail FROM audit WHERE event = ? ORDER BY seq", [event])
    return [(int(seq), json.loads(detail)) for seq, detail in rows]


def _raw_audit_text(store: Store) -> str:
    return "\n".join(str(row) for row in query(store, "SELECT * FROM audit"))


def test_pii_in_the_audit_is_encrypted_revealed_on_demand_and_erasable(
    demo_copy: Store, project_root: Path
) -> None:
    store = demo_copy
    record_id = _email_record(store)
    tg(store, project_root, "quarantine", "edit", str(record_id), "--set", f"email={CANARY}")
    tg(store, project_root, "quarantine", "replay", str(record_id))
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "replayed"

    ((edit_seq, edited),) = _audit_details(store, "record_edited")
    ((replay_seq, replay_entry),) = _audit_details(store, "record_replayed")
    replayed = record_details(replay_entry)[record_id]
    sealed = edited["after"]["email"]
    assert sealed["pii"] is True and sealed["ciphertext"] and len(sealed["hmac"]) == 64
    assert edited["before"]["email"]["key"] == sealed["key"]  # the old value too
    assert replayed["after"]["values"]["email"]["key"] == sealed["key"]
    assert replayed["after"]["values"]["order_id"].isdigit()  # not PII: in clear
    assert CANARY not in _raw_audit_text(store)
    (key,) = query(store, "SELECT key_id, material, destroyed_at FROM pii_keys")
    assert key[0] == sealed["key"] and key[1] and key[2] is None

    shown = tg(store, project_root, "audit", "show", str(edit_seq), "--reveal", "-f", "json")
    assert json.loads(shown.splitlines()[0])["detail"]  # parseable lines
    assert CANARY in shown
    assert CANARY not in tg(store, project_root, "audit", "show", str(edit_seq), "-f", "json")
    ((_, reveal),) = _audit_details(store, "pii_revealed")
    assert reveal["seqs"] == [edit_seq] and reveal["keys"] == [sealed["key"]]
    assert reveal["via"] == "audit show --reveal" and reveal["erased_keys"] == []

    refused = tg(store, project_root, "store", "erase-pii-key", code=2)
    assert "--yes" in refused and "Traceback" not in refused
    assert query(store, "SELECT material FROM pii_keys")[0][0] is not None
    erased = tg(store, project_root, "store", "erase-pii-key", "--yes")
    assert sealed["key"] in erased
    assert query(store, "SELECT material, destroyed_by FROM pii_keys") == [(None, "alice")]
    ((_, erasure),) = _audit_details(store, "pii_key_erased")
    assert erasure["keys"] == [sealed["key"]]

    after = tg(store, project_root, "audit", "show", str(replay_seq), "--reveal", "-f", "json")
    assert CANARY not in after and "erased" in after
    assert _audit_details(store, "pii_revealed")[-1][1]["erased_keys"] == [sealed["key"]]
    assert CANARY not in _raw_audit_text(store)
    assert "intact" in tg(store, project_root, "audit", "verify")

    # a later PII edit gets a new key; the erased one stays erased
    other = _email_record(store)
    tg(store, project_root, "quarantine", "edit", str(other), "--set", "email=new@example.com")
    keys = query(store, "SELECT key_id, material IS NULL FROM pii_keys ORDER BY created_at")
    assert [erased for _, erased in keys] == [True, False]
    assert _audit_details(store, "record_edited")[-1][1]["after"]["email"]["key"] == keys[1][0]


def test_cli_masks_pii_unless_reveal_and_audits_the_reveal(
    demo_copy: Store, project_root: Path, tmp_path: Path
) -> None:
    store = demo_copy
    record_id = _email_record(store)
    edit_records(store, {record_id: (None, {"email": CANARY})}, contracts_by_source(project_root))
    raw_email = json.loads(scalar(store, "SELECT raw FROM quarantine WHERE id = ?", [record_id]))
    raw_email = raw_email.get("email") or raw_email.get("Email")
    listing = ["quarantine", "list", "--source", "orders", "--rule", "email.regex"]

    masked_outputs = {
        "json": tg(store, project_root, *listing, "-f", "json"),
        "csv": tg(store, project_root, *listing, "-f", "csv"),
        "table": tg(store, project_root, *listing),
        "show": tg(store, project_root, "quarantine", "show", str(record_id)),
    }
    for name, out in masked_outputs.items():
        assert CANARY not in out, name
    (masked,) = [
        r for r in map(json.loads, masked_outputs["json"].splitlines()) if r["id"] == record_id
    ]
    assert masked["edited"]["email"] == mask_value(CANARY) == "c***@e***.com"
    clear = json.loads(scalar(store, "SELECT normalized FROM quarantine WHERE id = ?", [record_id]))
    assert masked["normalized"] == {**clear, "email": mask_value(clear["email"])}
    assert raw_email is not None and raw_email not in json.dumps(masked["raw"])
    assert all(e["value"] != raw_email for e in masked["errors"])
    assert scalar(store, "SELECT count(*) FROM audit WHERE event = 'pii_revealed'") == 0

    assert CANARY in tg(store, project_root, *listing, "-f", "json", "--reveal")
    assert CANARY in tg(store, project_root, "quarantine", "show", str(record_id), "--reveal")
    reveals = _audit_details(store, "pii_revealed")
    assert [d["via"] for _, d in reveals] == [
        "quarantine list --reveal",
        "quarantine show --reveal",
    ]
    assert record_id in reveals[0][1]["ids"] and reveals[1][1]["ids"] == [record_id]
    assert reveals[1][1]["columns"] == {"orders": ["email"]} and reveals[1][1]["os_user"]
    actors = query(store, "SELECT DISTINCT actor FROM audit WHERE event = 'pii_revealed'")
    assert actors == [("alice",)]

    # export masks too; importing the file unchanged keeps the masked values as they are
    out = tmp_path / "orders.csv"
    tg(store, project_root, "quarantine", "export", "-s", "orders", "-o", str(out))
    rows = {int(r["id"]): r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert CANARY not in out.read_text() and rows[record_id]["email"] == "c***@e***.com"
    assert "0 record(s) edited" in tg(store, project_root, "quarantine", "import", str(out))
    assert json.loads(scalar(store, "SELECT edited FROM quarantine WHERE id = ?", [record_id])) == {
        "email": CANARY
    }
    tg(store, project_root, "quarantine", "export", "-s", "orders", "-o", str(out), "--reveal")
    assert CANARY in out.read_text()
    assert _audit_details(store, "pii_revealed")[-1][1]["via"] == "quarantine export --reveal"
