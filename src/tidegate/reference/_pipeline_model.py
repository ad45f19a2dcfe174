"""Every key of a pipeline file (``pipelines/*.yaml``), its ``source`` kinds and sections.

The loaders (:mod:`tidegate.pipelines._spec`, ``_schedule``, :mod:`tidegate.monitor._config`
and each source kind's options in :mod:`tidegate.sources`) accept exactly these keys;
``tests/reference/test_model_matches_loaders.py`` holds them together.
"""

from __future__ import annotations

from typing import Any

from tidegate.pipelines._promote_if import GATE_METRICS, GATE_OPS
from tidegate.reference._keys import (
    REQUIRED,
    Key,
    boolean,
    choice,
    integer,
    number,
    section,
    string,
    string_list,
)

FILE_FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
PAGINATIONS = ("none", "page", "cursor", "link")
DURATION_PATTERN = r"^(?:\d+[smhdSMHD])+$"


def _kind(kind: str) -> Key:
    return Key("kind", "string", f"The source kind: {kind}.", {"const": kind}, REQUIRED, (kind,))


def _chunk_size(default: Any, what: str) -> Key:
    return Key(
        "chunk_size",
        "integer or string",
        what,
        {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}]},
        default,
    )


_CSV_DIALECT = (
    integer(
        "skip_rows",
        "CSV: physical lines skipped before the header (a preamble of titles, notes), "
        "e.g. 3; counted, not records.",
        0,
        minimum=0,
    ),
    integer(
        "header_rows",
        "CSV: rows of the header, e.g. 2 (a column's name is its cells joined by a space, "
        "empty cells left out); 0: no header (same as has_header: false).",
        1,
        minimum=0,
    ),
    Key(
        "escape",
        "string or null",
        "CSV escape character, e.g. '\\' (then \\\" is a quote in a field); none (or null): "
        "no escaping; left out: a quote is escaped by doubling it.",
        {"type": ["string", "null"], "minLength": 1},
    ),
    Key(
        "columns",
        "integer or list of strings",
        "CSV: the field count (e.g. 3) or the names (e.g. [id, name, amount]) of the "
        "fields: names for a file without a header (header_rows: 0); with a header, names "
        "that fix count and names (a header that differs is quarantined once).",
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ]
        },
    ),
    string(
        "comment",
        "CSV: lines starting with this prefix (outside a quoted field) are comments, "
        "e.g. '#'; counted, not records.",
        minLength=1,
    ),
)

_READER_OPTIONS = (
    choice(
        "format",
        "The file format; left out: from the file extension.",
        FILE_FORMATS,
        None,
    ),
    string(
        "delimiter",
        "CSV field delimiter, one or more characters, e.g. ';', '|' or '||'; "
        "left out: ',' (csv) or tab (tsv).",
        minLength=1,
    ),
    Key(
        "quote",
        "string or null",
        'CSV quote character, e.g. "\'"; none (or null): no quoting, every quote is data.',
        {"type": ["string", "null"], "minLength": 1},
        '"',
    ),
    string("encoding", "Text encoding of the files.", "utf-8"),
    boolean("has_header", "Whether the first CSV line is the header.", True),
    _chunk_size(
        "32MiB",
        "Read, check and stage a file this much at a time: rows (100000) or bytes ('64MB').",
    ),
    *_CSV_DIALECT,
)

FILE_SOURCE = section(
    "source (kind: file)",
    "Files matched by a path or glob; each file is one batch.",
    (
        _kind("file"),
        string("path", "A file or glob, relative to the project root.", REQUIRED, minLength=1),
        *_READER_OPTIONS,
    ),
)

LANDING_SOURCE = section(
    "source (kind: landing)",
    "A folder writers drop files into; a file is read once it has settled.",
    (
        _kind("landing"),
        string("folder", "The landing folder, relative to the project root.", REQUIRED),
        string("pattern", "Glob of the files to pick up in the folder.", "*.csv"),
        number(
            "settle_seconds",
            "A file modified more recently than this is left for a later run.",
            2.0,
            minimum=0,
        ),
        *_READER_OPTIONS,
    ),
)

SQL_SOURCE = section(
    "source (kind: sql)",
    "A database table or query, optionally incremental by a cursor column.",
    (
        _kind("sql"),
        string("url", "A database URL; ${VAR} is read from the environment."),
        string("url_block", "Name of a Prefect Secret block holding the URL (instead of url)."),
        string("table", "The table to read, e.g. public.orders (or give query)."),
        string("query", "A SELECT to read (or give table).", minLength=1),
        string("cursor", "An increasing column: each run reads the rows after the last one."),
        integer("chunk_size", "Rows fetched per chunk (one batch per window).", 100_000, minimum=1),
    ),
    exactly_one=(("url", "url_block"), ("table", "query")),
)

_SCALAR_MAP = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}

HTTP_SOURCE = section(
    "source (kind: http)",
    "A JSON HTTP API, page by page, with retries and a circuit breaker.",
    (
        _kind("http"),
        string("url", "The URL; ${VAR} is read from the environment.", REQUIRED),
        string("records", "Dotted path of the record list in the body ('' : the body).", "data"),
        choice("pagination", "How the next page is found.", PAGINATIONS, "none"),
        string("page_param", "Query parameter of the page number (pagination: page).", "page"),
        integer("page_start", "The first page number.", 1),
        string(
            "cursor_field",
            "Body field holding the next cursor (pagination: cursor).",
            "next_cursor",
        ),
        string("cursor_param", "Query parameter the cursor is sent in.", "cursor"),
        Key("params", "mapping", "Query parameters; ${VAR} values are secrets.", _SCALAR_MAP, {}),
        Key("headers", "mapping", "Request headers; ${VAR} values are secrets.", _SCALAR_MAP, {}),
        section(
            "auth",
            "A bearer token from the environment or a Prefect Secret block.",
            (
                string("bearer_env", "Environment variable holding the token."),
                string("bearer_block", "Prefect Secret block holding the token."),
                string("header", "Header the token is sent in.", "Authorization"),
                string("scheme", "Scheme before the token.", "Bearer"),
            ),
            exactly_one=(("bearer_env", "bearer_block"),),
        ),
        number("timeout", "Seconds to wait for a response.", 30.0),
        integer("max_attempts", "Attempts per request, the first included.", 4),
        number(
            "backoff_seconds", "First wait between attempts, doubled each time.", 0.5, minimum=0
        ),
        number("max_backoff_seconds", "The longest wait between attempts.", 30.0, minimum=0),
        number("retry_after_max_seconds", "The longest Retry-After honoured.", 60.0, minimum=0),
        integer(
            "breaker_failures", "Failures in a row that open the circuit breaker.", 5, minimum=1
        ),
        number(
            "breaker_cooldown_seconds",
            "How long the open breaker refuses requests.",
            60.0,
            minimum=0,
        ),
        integer("max_pages", "Stop after this many pages.", 10_000, minimum=1),
    ),
)

SOURCE_KINDS = (FILE_SOURCE, LANDING_SOURCE, SQL_SOURCE, HTTP_SOURCE)

MONITOR = section(
    "monitor",
    "Alert thresholds of the source (alerts do not hold a batch).",
    (
        number(
            "max_quarantine_ratio",
            "Alert above this share of quarantined rows.",
            minimum=0,
            maximum=1,
        ),
        section(
            "row_count",
            "Alert on the number of rows in a batch.",
            (
                integer("min", "Alert below this many rows.", minimum=0),
                integer("max", "Alert above this many rows.", minimum=0),
                number(
                    "vs_recent",
                    "Alert above k x or below 1/k of the recent median.",
                    exclusiveMinimum=1,
                ),
            ),
        ),
        boolean("schema_drift", "Alert on new, missing or renamed columns.", False),
        Key(
            "value_drift",
            "mapping or boolean",
            "Alert when values drift from the recent profile (true: every check, defaults).",
            {"type": "object"},
            keys=(
                number(
                    "null_rate",
                    "Alert when the null rate moves by more than this.",
                    minimum=0,
                    maximum=1,
                ),
                boolean(
                    "new_categories", "Alert on a value never seen in a categorical column.", False
                ),
                number(
                    "mean_shift",
                    "Alert when the mean moves more than this many standard deviations.",
                    exclusiveMinimum=0,
                ),
                string_list("ignore", "Columns left out of value drift.", []),
            ),
            also={"type": "boolean", "description": "true: every check with default thresholds."},
        ),
        integer("recent_batches", "How many recent batches the comparisons use.", 5, minimum=1),
        Key(
            "webhook",
            "mapping or string",
            "POST each alert as JSON to this URL (a string: just the url).",
            {"type": "object"},
            keys=(
                string("url", "An http:// or https:// URL.", REQUIRED, pattern="^https?://"),
                integer("retries", "Retries after the first attempt.", 3, minimum=0),
                number("timeout_s", "Seconds to wait for the webhook.", 5.0, exclusiveMinimum=0),
                number("backoff_s", "Wait before retry n: backoff_s * 2^(n-1).", 0.5, minimum=0),
            ),
            also={"type": "string", "pattern": "^https?://", "description": "The url alone."},
        ),
    ),
)

PIPELINE = Key(
    "pipeline",
    "mapping",
    "A pipeline: which source feeds which contract, when, and what to watch.",
    {"type": "object"},
    keys=(
        string(
            "name",
            "The pipeline's name; left out: the file name.",
            pattern="^[a-z_][a-z0-9_]*$",
        ),
        string("description", "What the pipeline does, for people.", ""),
        Key(
            "source",
            "mapping",
            "Where the records come from: one of the source kinds below.",
            {"type": "object"},
            REQUIRED,
            variants=SOURCE_KINDS,
        ),
        string(
            "contract", "Path of the contract, relative to the project root.", REQUIRED, minLength=1
        ),
        section(
            "schedule",
            "When Prefect runs it: a cron expression or an interval, in a timezone.",
            (
                string("cron", "Five cron fields, e.g. '0 * * * *'."),
                Key(
                    "interval",
                    "number or string",
                    "Seconds (3600) or a duration ('15m', '1h30m', '2d').",
                    {
                        "anyOf": [
                            {"type": "number", "exclusiveMinimum": 0},
                            {"type": "string", "pattern": DURATION_PATTERN},
                        ]
                    },
                ),
                string("timezone", "An IANA timezone name, e.g. Europe/Berlin.", "UTC"),
            ),
            exactly_one=(("cron", "interval"),),
        ),
        Key(
            "policy",
            "mapping",
            "Kept with the pipeline for the flow; the contract's policy is what applies.",
            {"type": "object"},
        ),
        MONITOR,
        section(
            "concurrency",
            "How many runs of this source at a time.",
            (
                integer("limit", "Runs at a time.", 1, minimum=1),
                choice(
                    "on_busy",
                    "A run that finds the limit reached waits, or is skipped.",
                    ("wait", "skip"),
                    "wait",
                ),
            ),
        ),
        integer(
            "retries", "How often Prefect retries a failed flow run.", 0, minimum=0, maximum=10
        ),
        section(
            "parallel",
            "Read a source's files or chunks on a Dask cluster (the dask extra).",
            (
                choice("runner", "The task runner.", ("dask",), "dask"),
                Key(
                    "address",
                    "string or null",
                    "A Dask scheduler, e.g. tcp://host:8786; null: a local cluster.",
                    {"type": ["string", "null"], "pattern": "^(tcp|tls|inproc|ucx|ws|wss)://"},
                ),
                integer("workers", "Local cluster worker processes.", 2, minimum=1, maximum=256),
            ),
        ),
        string(
            "data_docs",
            "A folder (relative to the project) where each run rebuilds Great Expectations "
            "Data Docs of the source's latest batches, when its contract names a suite; "
            "linked from the Prefect artifact and `tidegate report`.",
            minLength=1,
        ),
        string(
            "shadow",
            "A candidate contract for the same source (relative to the project), e.g. "
            "schemas/orders.v4.yaml: each batch is also judged under it, nothing loaded or "
            "quarantined under it; the audit entry (`detail.shadow`) and the run summary "
            "say which rows would newly pass or newly fail, by rule, with sample records; "
            "see `tidegate schema shadow-report` and `tidegate schema promote`.",
            minLength=1,
        ),
        section(
            "promote_if",
            "Thresholds the shadow result must meet before `tidegate schema promote` makes "
            "the candidate current (`doctor` checks them too), e.g. "
            "{new_failures_ratio: {lt: 0.001}}; needs shadow:.",
            tuple(
                section(
                    metric,
                    f"{what.capitalize()}, over the candidate's newest batches.",
                    tuple(
                        number(op, f"The value must be {sign} this.")
                        for op, sign in GATE_OPS.items()
                    ),
                )
                for metric, what in GATE_METRICS.items()
            ),
        ),
        string_list(
            "allowed_paths",
            "Folders outside the project that this pipeline's source and contract paths may "
            "resolve into, e.g. [/data/exports] (relative entries from the project). Every "
            "path is confined to the project folder and these; one outside is refused by "
            "`tidegate run` (exit 2), `schema check` and `doctor` before it is read.",
            minLength=1,
        ),
    ),
)

PIPELINE_EXAMPLES = {
    "file": """\
name: orders
source:
  kind: file
  path: sample_data/orders/*.csv
  format: csv
  chunk_size: 64MB
contract: schemas/orders.yaml
schedule: {cron: "0 6 * * *", timezone: Europe/Berlin}
monitor:
  max_quarantine_ratio: 0.2
  row_count: {min: 5, vs_recent: 3.0}
  schema_drift: true
  webhook: https://hooks.example.com/tidegate
""",
    "landing": """\
name: orders_drop
source: {kind: landing, folder: landing/orders, pattern: "*.csv", settle_seconds: 5}
contract: schemas/orders.yaml
schedule: {interval: 5m}
concurrency: {limit: 1, on_busy: skip}
""",
    "sql": """\
name: orders_db
source:
  kind: sql
  url: postgresql://app:${PGPASSWORD}@db:5432/shop
  table: public.orders
  cursor: updated_at
  chunk_size: 100000
contract: schemas/orders.yaml
retries: 2
""",
    "http": """\
name: orders_api
source:
  kind: http
  url: https://api.example.com/orders
  records: data
  pagination: cursor
  auth: {bearer_env: ORDERS_API_TOKEN}
contract: schemas/orders.yaml
""",
}
