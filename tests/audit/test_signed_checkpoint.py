"""Signed checkpoints (C2SP signed notes) against a store's chain, on both stores:
truncation, forged appends, an edited checkpoint, stripped signatures, old JSON files."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from signing_support import append, forge, head, raw, runner, verify
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import PostgresStore, Store, connect
from tidegate.store._audit_signer import read_key_file


def _checkpoint(store: Store, path: Path) -> str:
    result = runner.invoke(
        app, ["audit", "checkpoint", "-o", str(path), "--store", store_arg(store)]
    )
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8")


def _truncate(store: Store, after: int) -> None:
    if isinstance(store, PostgresStore):  # a superuser gets past the append-only triggers
        with connect(store) as con:
            con.execute("SET session_replication_role = replica")
            con.execute("DELETE FROM audit WHERE seq > ?", [after])
        return
    raw(store, "DELETE FROM audit WHERE seq > ?", [after])


def test_a_signed_checkpoint_detects_truncation_and_forged_appends(
    store: Store, key_file: Path, tmp_path: Path
) -> None:
    append(store, 5)
    cp = tmp_path / "cp.note"
    text = _checkpoint(store, cp)
    signer = read_key_file(key_file)
    assert signer is not None
    lines = text.split("\n")
    head_hash = head(store)[1]
    assert lines[0].startswith("tidegate.audit/") and lines[1] == "5"
    assert base64.b64decode(lines[2]) == bytes.fromhex(head_hash)
    assert lines[3] == "tidegate-signed-from 1"  # an extension line
    assert lines[4] == "" and lines[5].startswith(f"\u2014 tidegate.audit/{signer.key_id} ")
    append(store, 1, start=6)  # an honest append extends it
    code, out = verify(store, "--against", str(cp))
    assert code == 0 and "extends checkpoint" in out
    _truncate(store, 3)
    code, out = verify(store, "--against", str(cp))
    assert code == 1 and "tail was truncated" in out
    forge(store)  # entry 4 again, a good hash but no signature
    code, out = verify(store, "--against", str(cp))
    assert code == 1 and "signature bad at seq 4" in out


def test_an_edited_checkpoint_fails_its_signature(
    store: Store, key_file: Path, tmp_path: Path
) -> None:
    append(store, 5)
    cp = tmp_path / "cp.note"
    text = _checkpoint(store, cp)
    _truncate(store, 3)
    cp.write_text(text.replace("\n5\n", "\n3\n", 1), encoding="utf-8")  # hide the cut
    code, out = verify(store, "--against", str(cp))
    assert code == 1 and "does not match its text" in out


def test_an_old_json_checkpoint_is_still_read(store: Store, key_file: Path, tmp_path: Path) -> None:
    from tidegate.audit import make_checkpoint

    append(store, 4)
    cp = tmp_path / "cp.json"
    cp.write_text(make_checkpoint(store).to_json(), encoding="utf-8")
    assert json.loads(cp.read_text())["head_seq"] == 4
    assert verify(store, "--against", str(cp))[0] == 0
    _truncate(store, 2)
    code, out = verify(store, "--against", str(cp))
    assert code == 1 and "tail was truncated" in out


def test_stripping_every_signature_is_seen_against_a_checkpoint(
    tmp_path: Path, key_file: Path
) -> None:
    """DuckDB: nulling the signatures leaves the hashes; the signed checkpoint knows
    where signing began."""
    store = tmp_path / "s.duckdb"
    append(store, 3)
    cp = tmp_path / "cp.note"
    assert "tidegate-signed-from 1\n" in _checkpoint(store, cp)
    raw(store, "UPDATE audit SET key_id = NULL, signature = NULL")
    code, out = verify(store)
    assert code == 1 and "signatures were stripped" in out  # audit_keys still names a key
    raw(store, "DELETE FROM audit_keys")
    code, out = verify(store)  # now it looks like a store from before signing ...
    assert code == 0 and "3 entries before signing was enabled (seq 1..3)" in out
    code, out = verify(store, "--against", str(cp))  # ... but not to the checkpoint
    assert code == 1 and "signatures were stripped or replaced" in out
