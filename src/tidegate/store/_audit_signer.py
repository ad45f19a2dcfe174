"""The audit signing key: an Ed25519 private key the writers hold and the database does not.

Every audit entry's hash is signed with it (``signature`` = base64 of the Ed25519
signature over the entry's hex hash, ``key_id`` names the key), so write access to the
store alone can no longer append entries that verify: the public key is recorded in
the store (``audit_keys``), the private key never is.

Where the key is found, first match wins:

- ``$TIDEGATE_AUDIT_KEY``: the path of a key file;
- ``$TIDEGATE_AUDIT_KEY_BLOCK``: the name of a Prefect ``Secret`` block holding the key
  (PEM, or base64 of the 32 raw bytes); Prefect is imported only when a write needs it;
- else ``$TIDEGATE_HOME/audit-signing.key`` (default ``~/.tidegate/``), next to the
  other per-user local state, outside every store, so a copied store keeps being
  writable by the same user and the key never travels with the store file.

A key file is PEM (PKCS#8) or the 32 raw private bytes, readable by its owner only
(mode 0600). When no key exists on a store's first signed write, one is generated
(0600) and a line says so once. A rotated key is kept as
``audit-signing.<key id>.key`` next to the new one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.errors import AuditKeyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

KEY_ENV = "TIDEGATE_AUDIT_KEY"
BLOCK_ENV = "TIDEGATE_AUDIT_KEY_BLOCK"
KEY_FILE = "audit-signing.key"
RAW_KEY_BYTES = 32


def state_folder() -> Path:
    """``$TIDEGATE_HOME``, else ``~/.tidegate``: tidegate's per-user local state."""
    return Path(os.environ.get("TIDEGATE_HOME") or Path.home() / ".tidegate")


def key_file_path() -> Path:
    """``$TIDEGATE_AUDIT_KEY``, else ``<state folder>/audit-signing.key``."""
    env = os.environ.get(KEY_ENV)
    return Path(env).expanduser() if env else state_folder() / KEY_FILE


def retired_key_path(active: Path, key_id: str) -> Path:
    """Where a rotated-away key is kept: ``audit-signing.<key id>.key`` beside ``active``."""
    return active.with_name(f"{active.stem}.{key_id}{active.suffix or '.key'}")


def key_id_of(public: bytes) -> str:
    """``ak_`` and the first 8 bytes of SHA-256 of the raw 32-byte public key, in hex."""
    return "ak_" + hashlib.sha256(public).hexdigest()[:16]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class AuditSigner:
    """A loaded private key and where it came from (a file path or ``block NAME``)."""

    private: Ed25519PrivateKey
    where: str

    @property
    def public(self) -> bytes:
        return public_bytes(self.private.public_key())

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id_of(self.public)

    def sign_hash(self, entry_hash: str) -> str:
        """The base64 signature of an entry's hex hash (its ASCII bytes)."""
        return base64.b64encode(self.private.sign(entry_hash.encode("ascii"))).decode("ascii")

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def parse_private_key(data: bytes, where: str) -> Ed25519PrivateKey:
    """A PEM Ed25519 private key, its 32 raw bytes, or base64 of them; AuditKeyError else."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    hint = "make a new one with `tidegate audit key rotate`, or point TIDEGATE_AUDIT_KEY at it"
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError) as exc:
            raise AuditKeyError(
                f"audit key {where} is not a readable PEM key ({exc}); {hint}"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(
                f"audit key {where} is a {type(key).__name__}, not an Ed25519 key; {hint}"
            )
        return key
    raw = data if len(data) == RAW_KEY_BYTES else b64_or_none(text)
    if raw is None or len(raw) != RAW_KEY_BYTES:
        raise AuditKeyError(
            f"audit key {where} is neither PEM nor {RAW_KEY_BYTES} raw bytes "
            f"({len(data)} bytes); {hint}"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def b64_or_none(text: bytes) -> bytes | None:
    """The bytes ``text`` is strict base64 of, or None."""
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def read_key_file(path: Path) -> AuditSigner | None:
    """The key in ``path``, or None when there is no such file. A key other users can
    read is refused (AuditKeyError), as ssh refuses one."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditKeyError(
            f"cannot read the audit key {path} ({exc.strerror or exc}); check its permissions"
        ) from None
    if mode & 0o077:
        raise AuditKeyError(
            f"audit key {path} can be read by other users (mode {mode & 0o777:o}); "
            f"run `chmod 600 {path}`"
        )
    return AuditSigner(parse_private_key(data, str(path)), str(path))


def private_pem(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_key_file(path: Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` as PEM to ``path`` with mode 0600 (atomically: a new file, renamed)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        part = path.with_name(f".{path.name}.{os.getpid()}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private_pem(key))
        os.chmod(part, 0o600)
        os.replace(part, path)
    except OSError as exc:
        raise AuditKeyError(
            f"cannot write the audit key {path} ({exc.strerror or exc}); make its folder "
            f"writable or point {KEY_ENV} at another path"
        ) from None


def generate_key_file(path: Path) -> AuditSigner:
    """A new Ed25519 key in ``path`` (0600), announced once on stderr."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    write_key_file(path, key)
    signer = AuditSigner(key, str(path))
    print(
        f"tidegate: made a new audit signing key {path} (key id {signer.key_id}); "
        "keep a copy somewhere safe: the store's audit entries are signed with it",
        file=sys.stderr,
        flush=True,
    )
    return signer


_block_cache: dict[str, AuditSigner] = {}


def read_key_block(name: str) -> AuditSigner:
    """The key held by the Prefect Secret block ``name`` (Prefect imported here only)."""
    if name in _block_cache:
        return _block_cache[name]
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(name).get()  # type: ignore[union-attr]
    except Exception as exc:
        raise AuditKeyError(
            f"cannot load the Prefect Secret block {name!r} named by {BLOCK_ENV} ({exc}); "
            "create it (the key's PEM text as its value) or unset the variable"
        ) from None
    text = value if isinstance(value, str) else str(value)
    signer = AuditSigner(parse_private_key(text.encode("utf-8"), f"block {name}"), f"block {name}")
    _block_cache[name] = signer
    return signer


def configured_signer(*, create: bool) -> AuditSigner | None:
    """The writers' key (see the module docstring); with ``create``, a key file is made
    when none exists, else None is returned for a missing one."""
    if not os.environ.get(KEY_ENV) and os.environ.get(BLOCK_ENV):
        return read_key_block(os.environ[BLOCK_ENV])
    path = key_file_path()
    found = read_key_file(path)
    if found is None and create:
        return generate_key_file(path)
    return found


def retired_signer(active: AuditSigner, key_id: str) -> AuditSigner | None:
    """The retired key ``key_id`` kept beside the active key file, if this host has it."""
    if active.where.startswith("block "):
        return None
    found = read_key_file(retired_key_path(Path(active.where), key_id))
    return found if found is not None and found.key_id == key_id else None


def local_public_keys() -> dict[str, bytes]:
    """The public keys of the local key file and of its retired predecessors, by key id:
    what `tidegate audit verify` trusts when no --public-key is given (no Prefect)."""
    path = key_file_path()
    found: dict[str, bytes] = {}
    candidates = [path, *sorted(path.parent.glob(f"{path.stem}.ak_*{path.suffix or '.key'}"))]
    for candidate in candidates:
        signer = read_key_file(candidate) if candidate.is_file() else None
        if signer is not None:
            found[signer.key_id] = signer.public
    return found
