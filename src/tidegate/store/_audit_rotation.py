"""`tidegate audit key rotate`: hand the audit's signing over to a new key.

In one transaction: the new public key is recorded in ``audit_keys``, an
``audit_key_rotated`` entry signed by the old key names it, and the new key's
``audit_key_activated`` entry follows, signed by it. The new key is written (0600)
before the commit and becomes the key file after it; the old one is kept as
``audit-signing.<old key id>.key`` beside it, so entries it signed stay checkable
against a local key, and another store this host signs with the old key is handed
over the same way (signed by the old key) on its next write. A key held in a Prefect
block is rotated by hand (a new block value), since a rotation must write the new key
somewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.errors import AuditKeyError
from tidegate.store._audit_log import default_actor, hand_over, ready_to_sign, utc_now_iso
from tidegate.store._audit_signer import (
    AuditSigner,
    key_file_path,
    retired_key_path,
    write_key_file,
)
from tidegate.store._connect import transaction

if TYPE_CHECKING:
    from tidegate.store._protocol import StoreLike


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    new_public_key: str  # base64
    rotated_seq: int  # the audit_key_rotated entry
    key_file: Path
    retired_file: Path


def rotate_audit_key(store: StoreLike, actor: str | None = None) -> Rotation:
    """Rotate ``store``'s audit key to a new one (see the module docstring)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    who = actor or default_actor()
    active = key_file_path()
    new = AuditSigner(Ed25519PrivateKey.generate(), str(active))
    pending = retired_key_path(active, new.key_id)
    write_key_file(pending, new.private)
    try:
        with transaction(store) as con:
            at = utc_now_iso()
            old, _, _ = ready_to_sign(con, at, who)
            if old.where.startswith("block "):
                raise AuditKeyError(
                    f"the audit key is in the Prefect Secret {old.where}: rotate it by making "
                    "a new key file and pointing TIDEGATE_AUDIT_KEY at it for the rotation"
                )
            rotated = hand_over(con, old, new, who, "tidegate audit key rotate")
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    retired = retired_key_path(Path(old.where), old.key_id)
    os.replace(old.where, retired)
    os.replace(pending, active)
    return Rotation(old.key_id, new.key_id, new.public_b64, rotated.seq, active, retired)
