"""The rule ids tidegate itself gives a failure, in one place.

A contract's own rules are named ``<column>.<check>`` (``amount.ge``, ``email.regex``,
``order_id.type``). The ids below start with ``_`` and a scope instead: ``_file``
(a whole file), ``_batch`` (a whole batch), ``_row`` (one record) or ``_header``
(a normalization of the header). They are stored in the quarantine's ``errors`` and
``rules`` and in the audit's rule counts, so a value here never changes.

This module imports nothing: every stage, the store and the review app can use it.
"""

from __future__ import annotations

# A file that could not be read at all (wrong encoding, not CSV, truncated Parquet): its
# one file-level quarantine entry. Not replayable: there is no record to edit.
UNREADABLE_FILE_RULE = "_file.unreadable"

# Every row of a batch held back whole: its quarantine ratio is over the contract's
# ``max_quarantine_ratio``, a row failed under ``on_row_failure: fail_batch``, or no
# column of the contract is in the header.
HELD_RULE = "_batch.held"

# A row whose primary key repeats an earlier row of the same batch with different values
# (an exact repeat is counted as a duplicate instead, and not quarantined).
DUPLICATE_KEY_RULE = "_row.duplicate_key"

# A row whose primary key is already in the target from an earlier batch, under
# ``on_existing_key: quarantine``.
EXISTING_KEY_RULE = "_row.existing_key"

# A contract's compound primary key exported as a GX suite: the
# ``expect_compound_columns_to_be_unique`` expectation that stands for it, and the rows it
# finds when that suite runs.
PRIMARY_KEY_RULE = "_row.primary_key"

# A CSV record with more or fewer fields than the header.
RAGGED_ROW_RULE = "_row.ragged"

# A JSON Lines record that is not valid JSON.
INVALID_JSON_RULE = "_row.invalid_json"

# A JSON record that is valid JSON but not an object (a list, a number, a string).
NOT_OBJECT_RULE = "_row.not_object"

# Any other record the source could not read.
UNREADABLE_ROW_RULE = "_row.unreadable"

# Normalization: header names renamed to the contract's (counted per batch, not a failure).
HEADER_RENAME_RULE = "_header.rename"

# The prefix of a frame-level check that belongs to no column (a ``model:``'s dataframe
# checks): ``_row.<check>``.
ROW_RULE_PREFIX = "_row."
