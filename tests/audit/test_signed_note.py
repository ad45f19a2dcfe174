"""The C2SP signed-note format, checked against the spec's own example (the Go
``golang.org/x/mod/sumdb/note`` test vector: key PeterNeumann, key hash c74f20a3)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tidegate.audit._signed_note import (
    CheckpointBody,
    key_hash,
    parse_checkpoint_body,
    parse_note,
    sign_note,
    verify_note,
)
from tidegate.errors import SignedNoteError
from tidegate.store._audit_signer import public_bytes

# "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz":
# the base64 is the algorithm byte 0x01 and the 32-byte Ed25519 seed.
SKEY = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIGNED = (
    TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _key() -> Ed25519PrivateKey:
    raw = base64.b64decode(SKEY)
    assert raw[0] == 0x01
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_the_spec_example_signs_and_verifies_byte_for_byte() -> None:
    key = _key()
    public = public_bytes(key.public_key())
    assert key_hash("PeterNeumann", public).hex() == "c74f20a3"
    assert sign_note(TEXT, "PeterNeumann", public, key.sign) == SIGNED
    note = parse_note(SIGNED)
    assert note.text == TEXT and [s.name for s in note.signatures] == ["PeterNeumann"]
    assert verify_note(note, "PeterNeumann", public) is True
    assert verify_note(note, "SomeoneElse", public) is None  # no signature by that key
    edited = parse_note(SIGNED.replace("problem is", "problem was"))
    assert verify_note(edited, "PeterNeumann", public) is False


@pytest.mark.parametrize(
    "message",
    [
        TEXT,  # no signatures
        SIGNED.rstrip("\n"),  # the signature line does not end in a newline
        SIGNED.replace("\u2014 ", "-- "),  # not an em dash
        SIGNED.replace("PeterNeumann ", "Peter Neumann "),  # a space in the name
        SIGNED.replace("x08go", "x08g!"),  # not base64
    ],
)
def test_malformed_notes_are_refused(message: str) -> None:
    with pytest.raises(SignedNoteError):
        parse_note(message)


def test_a_checkpoint_body_round_trips() -> None:
    body = CheckpointBody("tidegate.audit/0123456789abcdef", 42, bytes(range(32)))
    text = body.text()
    assert text == (
        "tidegate.audit/0123456789abcdef\n42\n" + base64.b64encode(bytes(range(32))).decode() + "\n"
    )
    assert parse_checkpoint_body(text) == body
    with_extension = parse_checkpoint_body(text + "extra line\n")
    assert with_extension.extensions == ("extra line",)
    for bad in ("origin\n042\nAAAA\n", "origin\nx\nAAAA\n", "origin\n1\n", "\n1\nAAAA\n"):
        with pytest.raises(SignedNoteError):
            parse_checkpoint_body(bad)
