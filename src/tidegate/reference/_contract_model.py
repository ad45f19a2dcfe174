"""Every key of a contract file (``schemas/*.yaml``): type, default, allowed values, meaning.

The loader (:mod:`tidegate.contracts._load`, ``_columns``) accepts exactly these keys;
``tests/reference/test_model_matches_loaders.py`` holds the two together.
"""

from __future__ import annotations

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
    string_map,
)

IDENTIFIER_PATTERN = "^[a-z_][a-z0-9_]*$"
RESERVED_SOURCES = (
    "audit",
    "audit_keys",
    "batches",
    "checkpoints",
    "contract_versions",
    "duplicates",
    "pii_keys",
    "profiles",
    "quarantine",
)
SIMPLE_TYPES = ("int64", "float64", "string", "bool", "date", "datetime")
TYPE_ALIASES = {"int": "int64", "float": "float64", "str": "string"}
DECIMAL_PATTERN = r"^decimal\s*\(\s*\d+\s*,\s*\d+\s*\)$"
DEFAULT_TRUE_VALUES = ["true", "t", "yes", "y", "1"]
DEFAULT_FALSE_VALUES = ["false", "f", "no", "n", "0"]

TYPE = Key(
    "type",
    "string",
    "The column's type; values are cast to it after normalization.",
    {
        "type": "string",
        "anyOf": [
            {"enum": [*SIMPLE_TYPES, *TYPE_ALIASES]},
            {"pattern": DECIMAL_PATTERN},
        ],
    },
    REQUIRED,
    (*SIMPLE_TYPES, "decimal(p,s)", *TYPE_ALIASES),
)

_BOUND = {"type": ["number", "string"]}  # a number, or a date / datetime in ISO form
_MEMBER = {"type": ["string", "number", "boolean"]}

CHECKS = (
    Key("ge", "number or date", "Greater than or equal to this value.", _BOUND),
    Key("gt", "number or date", "Strictly greater than this value.", _BOUND),
    Key("le", "number or date", "Less than or equal to this value.", _BOUND),
    Key("lt", "number or date", "Strictly less than this value.", _BOUND),
    Key(
        "between",
        "[lo, hi]",
        "Between lo and hi, both included (lo <= hi).",
        {"type": "array", "items": _BOUND, "minItems": 2, "maxItems": 2},
    ),
    Key(
        "isin",
        "list",
        "One of these values (of the column's type).",
        {"type": "array", "items": _MEMBER, "minItems": 1},
    ),
    Key(
        "notin",
        "list",
        "None of these values (of the column's type).",
        {"type": "array", "items": _MEMBER, "minItems": 1},
    ),
    string(
        "regex",
        "Matches this regular expression (Python re and polars); string columns.",
        minLength=1,
    ),
    section(
        "str_length",
        "Length of the string between min and max (either may be left out).",
        (
            integer("min", "The shortest length allowed.", minimum=0),
            integer("max", "The longest length allowed.", minimum=0),
        ),
    ),
    string(
        "expr",
        "A polars SQL expression over declared columns, true for rows that pass.",
        minLength=1,
    ),
)
CHECK_NAME = string(
    "name",
    "Optional name; the rule id becomes <column>.<kind>.<name>.",
    pattern="^[a-z0-9_]+$",
)
CHECK = Key(
    "checks[]",
    "mapping",
    "One check: exactly one kind with its argument, and an optional name.",
    {"type": "object"},
    keys=(*CHECKS, CHECK_NAME),
    exactly_one=(tuple(k.name for k in CHECKS),),
)

COLUMN_NORMALIZE = section(
    "normalize",
    "Normalization of this column's values, after the contract-wide rules.",
    (
        boolean("trim", "Strip surrounding whitespace; left out: the contract's normalize.trim."),
        boolean("lower", "Lower-case the value (not with upper).", False),
        boolean("upper", "Upper-case the value (not with lower).", False),
        string_map("map", "Replace an exact value by another (after trim and case).", {}),
        string_list("strip", "Substrings removed from the value, e.g. ['$', ',']", [], minLength=1),
        string_list("null_values", "More tokens read as null in this column.", []),
    ),
)

COLUMN = Key(
    "columns.<name>",
    "mapping or type name",
    "One column: its type, options, normalization and checks (or just the type name).",
    {"type": "object"},
    keys=(
        TYPE,
        boolean("nullable", "Whether null is allowed (false for primary key columns).", True),
        boolean("unique", "No two rows of a batch (or of the target) share a value.", False),
        boolean("pii", "Personal data: never in clear in the audit; masked in review.", False),
        string("description", "What the column holds, for people.", ""),
        string_list("aliases", "Other header names that mean this column.", [], minLength=1),
        Key(
            "formats",
            "list of strings",
            "strptime formats tried in order (date and datetime columns only).",
            {"type": "array", "items": {"type": "string", "pattern": "%"}, "minItems": 1},
            ["%Y-%m-%d"],
        ),
        Key(
            "true_values",
            "list of strings",
            "Tokens read as true, compared lower-cased (bool columns only).",
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            DEFAULT_TRUE_VALUES,
        ),
        Key(
            "false_values",
            "list of strings",
            "Tokens read as false, compared lower-cased (bool columns only).",
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            DEFAULT_FALSE_VALUES,
        ),
        COLUMN_NORMALIZE,
        Key(
            "checks",
            "list of checks",
            "Row checks on this column, e.g. [{ge: 0}, {isin: [a, b]}].",
            {"type": "array"},
            [],
            item=CHECK,
        ),
    ),
    also={**TYPE.schema, "description": "Shorthand for {type: <this>}."},
)

CONTRACT = Key(
    "contract",
    "mapping",
    "A contract: what one source's rows must look like, and what to do with those that do not.",
    {"type": "object"},
    keys=(
        string(
            "source",
            "The source's name; also its target table.",
            REQUIRED,
            pattern=IDENTIFIER_PATTERN,
            **{"not": {"enum": list(RESERVED_SOURCES)}},
        ),
        integer("version", "The contract's version; bump it on purpose.", REQUIRED, minimum=1),
        string("description", "What the source is, for people.", ""),
        Key(
            "primary_key",
            "string or list of strings",
            "Declared columns that identify a row; repeated keys are duplicates.",
            {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                ]
            },
            [],
        ),
        string(
            "model",
            "A pandera.polars DataFrameModel for checks YAML cannot say.",
            pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        ),
        section(
            "normalize",
            "Contract-wide normalization, before the per-column rules.",
            (
                string_map("rename", "Header as found -> declared column (header drift).", {}),
                string_list("null_values", "Tokens read as null in every column.", [""]),
                boolean("trim", "Strip surrounding whitespace from every value.", True),
            ),
        ),
        Key(
            "columns",
            "mapping",
            "Column name -> its spec; names are lower-case identifiers.",
            {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": IDENTIFIER_PATTERN, "not": {"pattern": "^_tidegate"}},
            },
            REQUIRED,
            values=COLUMN,
        ),
        section(
            "policy",
            "What happens to rows that fail and to keys already loaded.",
            (
                choice(
                    "on_row_failure",
                    "A failing row goes to quarantine, or fails its whole batch.",
                    ("quarantine", "fail_batch"),
                    "quarantine",
                ),
                choice(
                    "on_existing_key",
                    "A row whose key is already loaded updates it, or goes to quarantine.",
                    ("update", "quarantine"),
                    "update",
                ),
                number(
                    "max_quarantine_ratio",
                    "Above this share of quarantined rows the whole batch is held.",
                    1.0,
                    minimum=0,
                    maximum=1,
                ),
            ),
        ),
        section(
            "expectations",
            "A Great Expectations 1.x suite (needs tidegate[gx]) run on every batch beside "
            "the contract's checks: every unexpected row of a row expectation is "
            "quarantined under its rule id, a failed batch expectation holds the batch or "
            "warns. `tidegate schema export-gx` writes one from a contract, `import-gx` "
            "the reverse.",
            (
                string(
                    "suite",
                    "The suite's JSON file (as GX 1.x writes it), relative to the contract.",
                    REQUIRED,
                    minLength=1,
                ),
                choice(
                    "on_batch_failure",
                    "A failed batch expectation (row count, mean, ...) holds the batch, "
                    "or is audited as a warning.",
                    ("hold", "warn"),
                    "hold",
                ),
                choice(
                    "row_evaluation",
                    "Row expectations tidegate knows run in tidegate (polars), or every row "
                    "expectation runs through GX; each unexpected row is quarantined.",
                    ("tidegate", "gx"),
                    "tidegate",
                ),
            ),
        ),
    ),
)

CONTRACT_EXAMPLE = """\
source: orders
version: 3
primary_key: [order_id]
normalize:
  rename: {OrderID: order_id}
  null_values: ["", "N/A", "null", "-"]
columns:
  order_id: {type: int64, nullable: false}
  status:
    type: string
    normalize: {lower: true, map: {canceled: cancelled}}
    checks: [{isin: [pending, shipped, cancelled]}]
  amount:
    type: decimal(12,2)
    normalize: {strip: ["$", ","]}
    checks: [{ge: 0}, {le: 100000, name: sane}]
  order_date: {type: date, formats: ["%Y-%m-%d", "%d/%m/%Y"]}
  gift: {type: bool, true_values: ["yes", "y"], false_values: ["no", "n"]}
policy:
  on_row_failure: quarantine
  on_existing_key: update
  max_quarantine_ratio: 0.2
"""
