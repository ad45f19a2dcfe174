"""The run summary names a file left for a later run (changed while it was read), as
plain text, with the reason."""

from __future__ import annotations

from tidegate.cli._common import console
from tidegate.engine import Deferred


def test_a_deferred_file_is_listed_with_its_reason() -> None:
    from tidegate.cli._summary import print_source_summary

    outcome = Deferred("orders", "/in/orders[1].csv", "size 10 -> 20 bytes").outcome()
    with console.capture() as captured:
        print_source_summary("orders", [outcome.as_dict()])
    text = " ".join(captured.get().split())  # the console wraps long lines
    assert "deferred" in text
    assert "orders[1].csv" in text
    assert "file changed while read (size 10 -> 20 bytes); nothing of it was committed" in text
    assert "it will be read on the next run" in text
