"""Every exact duplicate line is findable: the `duplicates` table holds each one (not
only the audit entry's first 100), written by the one-piece commit and by the chunked
publication alike (duplicates spanning chunks), on both stores; `audit trace --line`
says which line of which batch a duplicate repeats, and `audit sql` reads the table."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from helpers import query, write_csv_source
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import Store

runner = CliRunner()
UNIQUE, REPEATS = 50, 300
# line 1 the header; lines 2..51 ids 1..50; then 300 exact repeats of them (line 52 + k
# repeats id 1 + k % 50, first seen on line 2 + k % 50); a key seen with other values;
# a row that fails its check
LINES = (
    ["id,amount,note"]
    + [f"{i},{i}.5,n{i}" for i in range(1, UNIQUE + 1)]
    + [f"{1 + k % UNIQUE},{1 + k % UNIQUE}.5,n{1 + k % UNIQUE}" for k in range(REPEATS)]
    + ["3,99,other", "60,-1,bad"]
)
EXPECTED = [(52 + k, 2 + k % UNIQUE) for k in range(REPEATS)]  # (line, line it repeats)
SOURCES = {"sales_whole": None, "sales_chunks": 7}  # one piece; chunks of 7 rows


def make_project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "orders.csv").write_text("\n".join(LINES) + "\n")
    for source, chunk_size in SOURCES.items():
        contract = {
            "source": source,
            "version": 1,
            "primary_key": ["id"],
            "columns": {
                "id": {"type": "int64", "nullable": False},
                "amount": {"type": "decimal(12,2)", "checks": [{"ge": 0}]},
                "note": {"type": "string"},
            },
            "policy": {"max_quarantine_ratio": 1.0},
        }
        write_csv_source(root, contract, chunk_size=chunk_size)
    return root


def test_every_duplicate_line_is_in_the_table_and_traceable(
    store: Store, tmp_path: Path, prefect_api: str
) -> None:
    project = make_project(tmp_path / "p")
    at = ["--project", str(project), "--store", store_arg(store)]
    result = runner.invoke(app, ["run", "--all", *at])
    assert result.exit_code == 0, result.output
    tables = {}
    for source, chunk_size in SOURCES.items():
        (batch_id, raw), *more = query(
            store,
            "SELECT batch_id, detail FROM audit WHERE source = ? AND event = ?",
            [source, "batch_committed"],
        )
        assert not more
        detail = json.loads(raw)
        assert detail.get("chunks", 1) == (1 if chunk_size is None else 51)
        assert (detail["rows_in"], detail["loaded"], detail["quarantined"]) == (352, 50, 2)
        assert detail["duplicates"] == REPEATS
        assert detail["duplicate_records"] == [line for line, _ in EXPECTED[:100]]
        rows = query(
            store,
            "SELECT record, first_record, key_values, row_hash, batch_id, location "
            "FROM duplicates WHERE source = ? ORDER BY record",
            [source],
        )
        assert [(r[0], r[1]) for r in rows] == EXPECTED  # all 300, not 100
        assert {r[4] for r in rows} == {batch_id}
        assert {Path(r[5]).name for r in rows} == {"orders.csv"}
        assert rows[0][2] == '{"id":"1"}'
        # a duplicate and the line it repeats have one row hash; 50 distinct rows
        assert len({r[3] for r in rows}) == UNIQUE
        assert len({(r[1], r[3]) for r in rows}) == UNIQUE
        tables[source] = [r[:4] for r in rows]
        # conservation against the tables: loaded + quarantined + duplicates = rows read
        loaded = query(store, f"SELECT count(*) FROM {source}")[0][0]
        quarantined = query(store, "SELECT count(*) FROM quarantine WHERE source = ?", [source])[0][
            0
        ]
        assert loaded + quarantined + len(rows) == detail["rows_in"] == len(LINES) - 1

        traced = runner.invoke(app, ["audit", "trace", source, "--line", "orders.csv:300", *at])
        assert traced.exit_code == 0, traced.output
        said = " ".join(traced.output.split())
        assert (
            f"duplicate (this line): {project / 'data' / 'orders.csv'} line 300 is an exact "
            f"duplicate of line 50 in batch {batch_id}"
        ) in said
        assert "loaded in table" in said and "line 50" in said  # the first occurrence
        by_key = runner.invoke(app, ["audit", "trace", source, "49", "--format", "json", *at])
        found = json.loads(by_key.output)
        assert [d["record"] for d in found["duplicates"]] == [100, 150, 200, 250, 300, 350]
    # the one-piece commit and the chunked publication wrote the same rows
    assert tables["sales_whole"] == tables["sales_chunks"]

    sql = runner.invoke(
        app,
        [
            "audit",
            "sql",
            "SELECT source, count(*) AS n FROM duplicates GROUP BY 1 ORDER BY 1",
            "--format",
            "json",
            *at[2:],
        ],
    )
    assert sql.exit_code == 0, sql.output
    assert [json.loads(line) for line in sql.output.splitlines()] == [
        {"source": "sales_chunks", "n": REPEATS},
        {"source": "sales_whole", "n": REPEATS},
    ]
    missing = runner.invoke(app, ["audit", "trace", "sales_whole", "--line", "9999", *at])
    assert missing.exit_code == 1 and "no line 9999 of sales_whole" in " ".join(
        missing.output.split()
    )
    bad = runner.invoke(app, ["audit", "trace", "sales_whole", "--line", "x:y", *at])
    assert bad.exit_code == 2 and "--line 'x:y' is not FILE:LINE" in " ".join(bad.output.split())
