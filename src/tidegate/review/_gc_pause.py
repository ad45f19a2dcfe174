"""Python's cyclic garbage collector paused while a bulk review page is built.

A replay page makes hundreds of thousands of small dicts and lists (the raw records,
the loaded values, what the audit entry says of each record) that all live until the
page is written. Each allocation burst lets the collector run, and its full passes walk
every object the process holds (polars, pandera, Prefect's modules): a fifth of a bulk
replay's CPU went there. The page creates no garbage cycles worth collecting early,
so the collector is paused for the page and resumed after it (when it was running):
what the page left behind is collected then. The pause is process-wide, as the
collector is: another thread's objects wait the page's time too.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, back on after it if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
