"""The files `tidegate init` writes: one table of (relative path, content).

To add a file to every new project, add a row to ``PROJECT_FILES``; its content is
a function so a generated file (e.g. a JSON Schema) can be built when init runs.
"""

from __future__ import annotations

from collections.abc import Callable

from tidegate.reference import json_schema_text

CONTRACT_MODELINE = "# yaml-language-server: $schema=../jsonschema/contract.json\n"
PIPELINE_MODELINE = "# yaml-language-server: $schema=../jsonschema/pipeline.json\n"


def example_contract() -> str:
    return (
        CONTRACT_MODELINE
        + """\
# A contract: what a row of the source `example` must look like. Rows that pass are
# loaded into the table `example`; rows that fail go to quarantine with every rule
# they failed (`tidegate quarantine list`). Check it with `tidegate schema check`.
source: example
version: 1                        # bump on purpose when you change the rules
description: "Invoices exported as CSV (the sample in data/example/)"
primary_key: [invoice_id]         # a key repeated in a file is counted as a duplicate
normalize:                        # applied to every column before the checks
  rename: {"Invoice No": invoice_id}   # header as found -> column (header drift)
  null_values: ["", "N/A", "-"]   # these values mean "no value"
  trim: true                      # strip surrounding whitespace
columns:
  invoice_id: {type: int64, nullable: false, unique: true}
  customer: {type: string, nullable: false}
  status:
    type: string                  # int64, float64, decimal(p,s), string, bool, date, datetime
    normalize: {lower: true, map: {"canceled": "cancelled"}}
    checks: [{isin: [open, paid, cancelled]}]
  amount:
    type: decimal(12,2)
    normalize: {strip: ["$", ","]}      # "$1,234.50" -> 1234.50
    checks: [{ge: 0}, {le: 100000}]
  issued_on:
    type: date
    formats: ["%Y-%m-%d", "%d/%m/%Y"]   # tried in order; the first that parses wins
  paid: {type: bool}              # yes/no, y/n, true/false, 1/0 (true_values: to change)
  email: {type: string, pii: true, checks: [{regex: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'}]}
policy:
  on_row_failure: quarantine      # or fail_batch: one bad row refuses the whole file
  on_existing_key: update         # a key loaded by an earlier file: update it (or quarantine)
  max_quarantine_ratio: 0.25      # above it the whole file is held, nothing loaded
"""
    )


def example_pipeline() -> str:
    return (
        PIPELINE_MODELINE
        + """\
# A pipeline: where the data comes from, which contract checks it, when it runs.
# Run it with `tidegate run example`.
name: example
description: "Invoices exported as CSV"
source:
  kind: file                      # also: sql, http, landing
  path: data/example/*.csv        # relative to the project folder; a glob reads every match
  format: csv                     # or jsonl, json, parquet
  delimiter: ","
  encoding: utf-8
contract: schemas/example.yaml
# schedule: {cron: "0 6 * * *", timezone: UTC}   # for `tidegate serve` / `tidegate deploy`
# monitor:                                        # alerts, separate from the contract's hold
#   max_quarantine_ratio: 0.2
#   row_count: {min: 1, max: 100000}
"""
    )


def example_data() -> str:
    return """\
Invoice No,customer,status,amount,issued_on,paid,email
1001,Acme Ltd,paid,"$1,234.50",2024-01-05,yes,billing@acme.example
1002,Globex,open,$89.00,06/01/2024,no,ap@globex.example
1003,Initech,PAID,$12.00,2024-01-07,yes,N/A
1004,Umbrella,Canceled,$0.00,2024-01-08,no,finance@umbrella.example
1005,Hooli,open,"$2,500.00",09/01/2024,no,-
1006,Vehement,lost,$45.10,2024-01-10,no,ops@vehement.example
1007,Massive Dynamic,paid,$310.00,2024-01-11,yes,pay@massive.example
1008,Soylent,open,$75.25,12/01/2024,N/A,accounts@soylent.example
"""


def gitignore() -> str:
    return """\
# tidegate's store: the default DuckDB file and its Prefect server state
.tidegate/
*.duckdb
*.duckdb.wal
"""


# (path relative to the project folder, what to write); init writes them in this order.
PROJECT_FILES: tuple[tuple[str, Callable[[], str]], ...] = (
    ("schemas/example.yaml", example_contract),
    ("pipelines/example.yaml", example_pipeline),
    ("data/example/invoices.csv", example_data),
    (".gitignore", gitignore),
    ("jsonschema/contract.json", lambda: json_schema_text("contract")),
    ("jsonschema/pipeline.json", lambda: json_schema_text("pipeline")),
)
