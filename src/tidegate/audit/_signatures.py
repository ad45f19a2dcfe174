"""Check the audit entries' signatures, against the store's keys and a trusted key.

The hash chain shows an edit inside the chain; the signatures show who appended: an
entry verifies only when its ``signature`` is the Ed25519 signature of its hash under
the key its ``key_id`` names (the public key recorded in ``audit_keys``), and that key
is the chain's signing key at that point. The chain says which key that is: the key of
its first signed entry, until an ``audit_key_rotated`` entry signed by it names a new
key, whose ``audit_key_activated`` entry follows at once. So a writer with database
access but not the key cannot append an entry that verifies, signed or not; entries
before the first signed one (a store made before signing existed) are counted, not
failed.

A writer could also record a key of their own and re-sign the whole chain with it.
Only a key trusted from elsewhere shows that: with a trust anchor (``--public-key
FILE``, else the local key file and its retired predecessors) some entry must be
signed by a trusted key (its signature pins, through the hash chain, every entry
before it), and every later key comes from a signed rotation. Nothing here imports
Prefect.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tidegate.errors import AuditQueryError
from tidegate.store import AuditEntry
from tidegate.store._audit_keys import KEY_ACTIVATED, KEY_ROTATED
from tidegate.store._audit_signer import key_id_of

STORE_ONLY = (
    "the store's recorded keys only (no --public-key and no local key file: a writer who "
    "can record a key of their own could have re-signed the chain)"
)


@dataclass(frozen=True)
class TrustAnchor:
    """The public keys trusted from outside the store, by key id, and where from."""

    keys: dict[str, bytes]
    source: str  # "--public-key FILE", "the local key file PATH", or STORE_ONLY

    def describe(self) -> str:
        if not self.keys:
            return STORE_ONLY
        return f"{self.source} (key {', '.join(sorted(self.keys))})"


@dataclass(frozen=True)
class SignatureReport:
    signed: int  # entries with a good signature
    unsigned_before: int  # entries before signing was enabled (seq 1..unsigned_before)
    trust: str  # which trust anchor the check used
    first_bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def _verify(public: bytes, signature_b64: str, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _detail(entry: AuditEntry) -> dict[str, object]:
    try:
        loaded = json.loads(entry.detail)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def check_signatures(
    entries: Iterable[AuditEntry], recorded: dict[str, str], anchor: TrustAnchor
) -> SignatureReport:
    """Walk an intact chain and name the first entry whose signature is missing or bad."""
    current: str | None = None  # the key that signs the next entry
    rotation: tuple[str, int] | None = None  # (new key, seq of its rotation entry)
    unsigned, signed, first_signed = 0, 0, 0
    signers: set[str] = set()
    trust = anchor.describe()

    def bad(seq: int, reason: str) -> SignatureReport:
        return SignatureReport(signed, unsigned, trust, seq, reason)

    for e in entries:
        if not e.signature and not e.key_id:
            if current is not None:
                return bad(
                    e.seq,
                    f"the entry is not signed, but every entry from seq {first_signed} on "
                    "must be (it was written without the audit key)",
                )
            if e.event in (KEY_ACTIVATED, KEY_ROTATED):
                return bad(e.seq, f"this {e.event} entry has lost its signature")
            unsigned += 1
            continue
        if not e.signature or not e.key_id:
            return bad(e.seq, "the entry has a key id without a signature, or the reverse")
        recorded_b64 = recorded.get(e.key_id)
        if recorded_b64 is None:
            return bad(e.seq, f"signed by key {e.key_id}, which audit_keys does not record")
        try:
            public = base64.b64decode(recorded_b64, validate=True)
        except ValueError:
            public = b""
        if key_id_of(public) != e.key_id:
            return bad(e.seq, f"audit_keys holds a public key for {e.key_id} that is not that key")
        if not _verify(public, e.signature, e.hash.encode("ascii")):
            return bad(e.seq, f"the signature does not match the entry's hash under key {e.key_id}")
        detail = _detail(e)
        if current is None:
            first_signed = e.seq
        elif rotation is not None:
            if e.key_id != rotation[0] or e.event != KEY_ACTIVATED:
                return bad(
                    e.seq,
                    f"the rotation at seq {rotation[1]} hands over to key {rotation[0]}, whose "
                    f"audit_key_activated entry must come next (found {e.event} by {e.key_id})",
                )
            rotation = None
        elif e.key_id != current:
            return bad(
                e.seq,
                f"signed by key {e.key_id}, but the chain's signing key here is {current} "
                f"(no rotation signed by {current} introduced {e.key_id})",
            )
        current = e.key_id
        if e.event == KEY_ROTATED:
            new = str(detail.get("key_id", ""))
            if recorded.get(new) is None or detail.get("public_key") != recorded.get(new):
                return bad(e.seq, f"the rotation names key {new!r}, which audit_keys does not hold")
            rotation = (new, e.seq)
        signers.add(e.key_id)
        signed += 1
    if rotation is not None:
        return bad(
            rotation[1],
            f"the rotation to key {rotation[0]} is not followed by that key's "
            "audit_key_activated entry",
        )
    if recorded and not signed and unsigned:
        return bad(
            1,
            f"no entry is signed, though audit_keys records key {', '.join(sorted(recorded))} "
            "(the signatures were stripped)",
        )
    if anchor.keys and signed and not signers & anchor.keys.keys():
        return bad(
            first_signed,
            f"the chain is signed by key {', '.join(sorted(signers))}, but the trusted key "
            f"({anchor.describe()}) signed none of it: someone recorded a key of their own "
            "and re-signed the chain",
        )
    for key_id, public in anchor.keys.items():
        if key_id in signers and recorded.get(key_id) != base64.b64encode(public).decode():
            return bad(first_signed, f"audit_keys holds another public key for {key_id}")
    return SignatureReport(signed, unsigned, trust)


def parse_public_key(data: bytes, where: str) -> bytes:
    """The raw 32-byte Ed25519 public key in ``data``: a public or private PEM key, the
    32 raw bytes, or base64 of them (what `tidegate audit key show` prints)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from tidegate.store._audit_signer import b64_or_none, public_bytes

    text = data.strip()
    hint = "give the file `tidegate audit key show -o FILE` writes"
    if b"PRIVATE KEY" in text[:40]:
        try:
            private = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError) as exc:
            raise AuditQueryError(
                f"public key {where} is not a readable PEM key ({exc}); {hint}"
            ) from None
        if isinstance(private, Ed25519PrivateKey):
            return public_bytes(private.public_key())
        raise AuditQueryError(f"public key {where} is not an Ed25519 key; {hint}")
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text)
        except (ValueError, TypeError) as exc:
            raise AuditQueryError(
                f"public key {where} is not a readable PEM key ({exc}); {hint}"
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise AuditQueryError(f"public key {where} is not an Ed25519 key; {hint}")
        return public_bytes(key)
    if len(data) == 32:
        return data
    raw = b64_or_none(text) or b""
    if len(raw) != 32:
        raise AuditQueryError(
            f"public key {where} is neither PEM, 32 raw bytes nor their base64; {hint}"
        )
    return raw


def trust_anchor(public_key_file: Path | None) -> TrustAnchor:
    """``--public-key FILE``, else the local key file (and its retired predecessors),
    else no anchor (the store's recorded keys only)."""
    from tidegate.errors import AuditKeyError
    from tidegate.store._audit_signer import key_file_path, local_public_keys

    if public_key_file is not None:
        try:
            data = public_key_file.read_bytes()
        except OSError as exc:
            raise AuditQueryError(
                f"cannot read public key {public_key_file} ({exc.strerror or exc}); check the path"
            ) from None
        public = parse_public_key(data, str(public_key_file))
        return TrustAnchor({key_id_of(public): public}, f"--public-key {public_key_file}")
    try:
        local = local_public_keys()
    except AuditKeyError as exc:
        raise AuditQueryError(str(exc)) from None
    if local:
        return TrustAnchor(local, f"the local key file {key_file_path()}")
    return TrustAnchor({}, STORE_ONLY)
