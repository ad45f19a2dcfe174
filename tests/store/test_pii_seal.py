"""Sealed PII values: AES-GCM round trip, an HMAC for equality, erased and altered keys."""

from __future__ import annotations

import os

from tidegate.store._pii_seal import ERASED, UNREADABLE, open_detail, seal_value


def test_sealed_values_open_compare_and_fail_closed() -> None:
    key = os.urandom(32)
    a, b = seal_value("pk_1", key, "ann@example.com"), seal_value("pk_1", key, "ann@example.com")
    assert "ann" not in str(a) and a["ciphertext"] != b["ciphertext"]  # a fresh nonce each
    assert a["hmac"] == b["hmac"] != seal_value("pk_1", key, "bob@example.com")["hmac"]
    detail = {"after": {"email": a, "amount": "5"}, "values": [b]}
    assert open_detail(detail, {"pk_1": key}) == {
        "after": {"email": "ann@example.com", "amount": "5"},
        "values": ["ann@example.com"],
    }
    assert open_detail(detail, {"pk_1": None})["after"]["email"] == ERASED
    assert open_detail(detail, {"pk_1": os.urandom(32)})["values"] == [UNREADABLE]
