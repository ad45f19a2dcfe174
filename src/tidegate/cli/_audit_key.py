"""`tidegate audit key show|rotate`: the key that signs the audit entries.

`show` only reads (the local key file and, when there is one, the store) and imports
no Prefect; `rotate` writes the rotation into the store's audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store

app = typer.Typer(help="Show or rotate the audit signing key.", no_args_is_help=True)


@app.command("show")
def show(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the public key (PEM) here, for `audit verify --public-key`.",
        ),
    ] = None,
) -> None:
    """Print the local audit key's id and public key, and which key signs the store."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tidegate.store._audit_signer import BLOCK_ENV, KEY_ENV, key_file_path, read_key_file

    path = key_file_path()
    try:
        signer = read_key_file(path)
    except TidegateError as exc:
        raise fail(exc) from None
    if signer is None:
        raise fail(
            f"no audit key at {path} (a key held in {BLOCK_ENV} is read by flows only); "
            f"`tidegate store init` makes one, or point {KEY_ENV} at yours"
        )
    console.print(plain(f"key id:     {signer.key_id}"), highlight=False)
    console.print(plain(f"public key: {signer.public_b64}"), highlight=False)
    console.print(plain(f"key file:   {signer.where}"), highlight=False)
    current = _store_key(resolve_store(project, store))
    if current is not None:
        same = "this key" if current[0] == signer.key_id else "ANOTHER key"
        console.print(
            plain(
                f"the store's entries are signed by {current[0]} since seq {current[1]} ({same})"
            ),
            highlight=False,
        )
    if output is not None:
        pem = Ed25519PublicKey.from_public_bytes(signer.public).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(pem)
        except OSError as exc:
            raise fail(f"cannot write {output}: {exc.strerror or exc}; pick another path") from None
        console.print(plain(f"public key written to {output}"), highlight=False)


def _store_key(store: Store) -> tuple[str, int] | None:
    """The key that signs the store now, or None (no store, or nothing signed yet)."""
    from tidegate.store._audit_keys import chain_signing_key
    from tidegate.store._audit_reads import has_audit
    from tidegate.store._connect import connect

    try:
        if not store.exists():
            return None
        with connect(store, read_only=True) as con:
            return chain_signing_key(con) if has_audit(con) else None
    except TidegateError:
        return None


@app.command("rotate")
def rotate(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: Annotated[
        str | None,
        typer.Option(help="Who rotates (default: TIDEGATE_ACTOR, else system:<login name>)."),
    ] = None,
) -> None:
    """Make a new audit key: the rotation is an audit entry signed by the old key that
    names the new public key; the old key file is kept beside the new one."""
    from tidegate.store._audit_rotation import rotate_audit_key

    try:
        done = rotate_audit_key(resolve_store(project, store), actor)
    except TidegateError as exc:
        raise fail(exc) from None
    console.print(
        plain(
            f"audit key rotated at seq {done.rotated_seq}: {done.old_key_id} -> {done.new_key_id}\n"
            f"new key {done.key_file} (public key {done.new_public_key}); the old one is kept "
            f"as {done.retired_file}\nupdate the copies of the key elsewhere (other workers, "
            "TIDEGATE_AUDIT_KEY, Prefect blocks) and the public key you verify with"
        ),
        highlight=False,
    )
