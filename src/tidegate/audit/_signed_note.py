"""C2SP signed notes (https://c2sp.org/signed-note) and checkpoints in them
(https://c2sp.org/tlog-checkpoint), for Ed25519 keys. Pure functions, no store.

A note is UTF-8 text ending in a newline, then a blank line, then signature lines
``— <key name> <base64(4-byte key hash || signature)>``, each ending in a newline; the
signature covers the text including its final newline. For Ed25519 the key hash is the
first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key). A checkpoint
note's text is an origin line, the tree size in decimal, the base64 root hash, then
optional extension lines. For the audit's hash chain the tree size is the entry count
and the root hash the head entry's hash.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from tidegate.errors import SignedNoteError

SIG_PREFIX = "\u2014 "  # em dash, space
ED25519 = 0x01
MAX_SIGNATURES = 100


def key_hash(name: str, public: bytes) -> bytes:
    """The 4-byte key hash of an Ed25519 key named ``name``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public).digest()[:4]


def check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise SignedNoteError(f"key name {name!r} is empty or holds a space or '+'")


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: bytes  # 4 bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str  # ends in "\n"
    signatures: tuple[NoteSignature, ...]


def signature_line(name: str, public: bytes, signature: bytes) -> str:
    check_name(name)
    blob = base64.b64encode(key_hash(name, public) + signature).decode("ascii")
    return f"{SIG_PREFIX}{name} {blob}\n"


def sign_note(text: str, name: str, public: bytes, sign: Callable[[bytes], bytes]) -> str:
    """``text`` signed by one key: ``sign`` signs bytes with the key whose raw public
    key is ``public``."""
    if not text.endswith("\n") or "\n\n" in text:
        raise SignedNoteError("a note's text ends in one newline and holds no blank line")
    return text + "\n" + signature_line(name, public, sign(text.encode("utf-8")))


def parse_note(message: str) -> Note:
    """Split a note into its text and its signature lines, checking their syntax."""
    split = message.rfind("\n\n")
    if split < 0:
        raise SignedNoteError("no blank line between the text and the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise SignedNoteError("the last signature line does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise SignedNoteError(f"more than {MAX_SIGNATURES} signature lines")
    signatures: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise SignedNoteError(f"signature line {line[:40]!r} does not start with '— '")
        parts = line[len(SIG_PREFIX) :].split(" ")
        if len(parts) != 2:
            raise SignedNoteError(f"signature line {line[:40]!r} is not '— <name> <base64>'")
        name, blob = parts
        check_name(name)
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise SignedNoteError(f"signature of {name} is not base64") from None
        if len(raw) < 5:
            raise SignedNoteError(f"signature of {name} is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    if not signatures:
        raise SignedNoteError("the note has no signature")
    return Note(text, tuple(signatures))


def verify_note(note: Note, name: str, public: bytes) -> bool | None:
    """True when ``note`` carries a good signature by the key (``name``, ``public``),
    False when it carries a bad one, None when it carries none by that key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    wanted = key_hash(name, public)
    for sig in note.signatures:
        if sig.name == name and sig.key_hash == wanted:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(
                    sig.signature, note.text.encode("utf-8")
                )
            except InvalidSignature:
                return False
            return True
    return None


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode("ascii")
        extra = "".join(f"{line}\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{root}\n{extra}"


def parse_checkpoint_body(text: str) -> CheckpointBody:
    """A checkpoint note's text: origin, decimal tree size, base64 root hash, extensions."""
    lines = text[:-1].split("\n") if text.endswith("\n") else []
    if len(lines) < 3:
        raise SignedNoteError("a checkpoint needs an origin, a tree size and a root hash line")
    origin, size, root, *extensions = lines
    if not origin:
        raise SignedNoteError("the origin line is empty")
    if not size.isdigit() or (size != "0" and size.startswith("0")) or not size.isascii():
        raise SignedNoteError(f"tree size {size!r} is not a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except ValueError:
        raise SignedNoteError(f"root hash {root!r} is not base64") from None
    if any(not line for line in extensions):
        raise SignedNoteError("an extension line is empty")
    return CheckpointBody(origin, int(size), root_hash, tuple(extensions))
