"""Whether every line of a CSV block is one plain record, told without a line table.

The fast path of ``_csv_stream.py`` reads a block with polars once it knows each line's
field count and safety (``_line_table`` in ``_csv.py``: a string per line and a few
vectorised passes over them). Most blocks have no blank line, no ragged row and no
line polars would read differently from the csv module; :func:`plain_lines` tells so
from counts over the block's bytes (at C speed) and builds the line table only for the
lines that hold a quote char (usually few):

* a "\\r" only ever before a "\\n" (a lone "\\r" ends a line for the csv module);
* the lines with a quote char are safe and have ``expected`` fields (``_line_table``
  on those lines alone);
* the other lines hold ``expected - 1`` delimiters each on average.

The caller then reads the block with polars refusing any line of more than ``expected``
fields (:func:`tidegate.sources._csv.read_fields` with ``ragged=False``). No line has
more, so none has fewer (the average), so every line is one record of ``expected``
fields, and none is blank (a blank line has one field; one-column files are left to the
line table). A comment prefix at a line start also leaves the block to the line table.
"""

from __future__ import annotations

import polars as pl

from tidegate.sources._bytes import byte_view
from tidegate.sources._csv import CsvOptions
from tidegate.sources._csv_records import well_formed_patterns

_QUOTED_SHARE = 4  # more quote chars than lines / 4: the line table (it does the same work)


def plain_lines(block: str, utf8: bytes, options: CsvOptions, expected: int) -> int | None:
    """The number of lines of ``block`` (whole lines; ``utf8``: its UTF-8 encoding) if,
    read with polars refusing lines of more than ``expected`` fields, each of them is
    one record of ``expected`` fields; None when only the line table can tell."""
    if not block or expected < 2 or block.endswith("\r"):
        return None
    comment = options.comment
    if comment is not None and (block.startswith(comment) or "\n" + comment in block):
        return None
    delimiter, quote = options.delimiter, options.quote
    view = pl.lit(byte_view(utf8))
    sums = [(view == 10).sum().alias("newlines"), (view == ord(delimiter)).sum().alias("delims")]
    if quote is not None:
        sums.append((view == ord(quote)).sum().alias("quotes"))
    crs = "\r" in block
    if crs:
        sums.append((view == 13).sum().alias("cr"))
        sums.append(((view == 13) & (view.shift(-1) == 10)).sum().alias("crlf"))
    counts = pl.select(sums).row(0, named=True)
    if crs and counts["cr"] != counts["crlf"]:
        return None  # a lone "\r": a line end for the csv module only
    lines = counts["newlines"] + (0 if block.endswith("\n") else 1)
    delims = counts["delims"]
    quoted = 0
    if quote is not None and counts["quotes"]:
        if counts["quotes"] * _QUOTED_SHARE > lines:
            return None
        well_formed, quoted_field = well_formed_patterns(delimiter, quote)
        for line in _quoted_lines(block, quote):
            if not well_formed.fullmatch(line):
                return None  # maybe unsafe: the line table decides
            if quoted_field.sub("", line).count(delimiter) != expected - 1:
                return None  # a ragged line
            delims -= line.count(delimiter)
            quoted += 1
    if delims != (lines - quoted) * (expected - 1):
        return None  # a ragged line
    return lines


def _quoted_lines(block: str, quote: str) -> list[str]:
    """The lines of ``block`` that hold ``quote``, without their line ends ("\r" only
    ever comes before "\n" here)."""
    out: list[str] = []
    at = block.find(quote)
    while at >= 0:
        start = block.rfind("\n", 0, at) + 1
        stop = block.find("\n", at)
        if stop < 0:
            stop = len(block)
        out.append(block[start : stop - 1 if block.startswith("\r", stop - 1) else stop])
        at = block.find(quote, stop)
    return out
