"""The duplicate-key filter's sort-based lookup marks exactly what ``is_duplicated`` does."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.route._split import repeated_keys

keys_a = st.lists(st.one_of(st.none(), st.integers(1, 4)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(a=keys_a, b=st.lists(st.one_of(st.none(), st.sampled_from(["x", "y"])), max_size=30))
def test_repeated_keys_is_is_duplicated(a: list[int | None], b: list[str | None]) -> None:
    """Single and compound keys, nulls equal to each other, empty and one-row frames."""
    n = min(len(a), len(b))
    frame = pl.DataFrame({"a": a[:n], "b": b[:n]}, schema={"a": pl.Int64, "b": pl.String})
    for key in (("a",), ("a", "b")):
        expr = pl.struct(key) if len(key) > 1 else pl.col(key[0])
        want = frame.select(expr.is_duplicated()).to_series().to_list()
        assert repeated_keys(frame, key).to_list() == want
