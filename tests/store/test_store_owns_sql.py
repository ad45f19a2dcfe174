"""The store owns every query: no SQL and no dialect check outside src/tidegate/store/.

Scans the string literals of every module outside the store (and outside the SQL
source kind, which reads a user's own database, not the store) for SQL statements, and
the code for dialect checks. User-facing text that shows a person an example query is
listed below, by file and the start of the text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tidegate"
NOT_THE_STORE = ("store/", "sources/_sql.py", "sources/_sql_url.py")

# SQL as this code base writes it: keywords in capitals.
SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|\bDELETE FROM\b"
    r"|\b(CREATE|DROP|ALTER|TRUNCATE)( OR REPLACE)?( TEMPORARY)? "
    r"(TABLE|INDEX|SCHEMA|SEQUENCE|TRIGGER|FUNCTION|ROLE)\b"
    r"|\bWHERE \S+ ?(=|<|>|IN |LIKE |BETWEEN )|^\s*(BEGIN( TRANSACTION| READ ONLY)?|ROLLBACK)\s*$"
    r"|\bpg_[a-z_]+\(|information_schema\.|\bSET (LOCAL )?[a-z_]+ ?(=|TO )|\bGRANT [A-Z]+",
    re.DOTALL,
)
DIALECT = re.compile(
    r"isinstance\([^)]*\b(PostgresStore|DuckDBStore|PgConnection|Path)\b"
    r"|is_postgres_connection|dialect_of|STORE_TABLES_SQL|\.execute\("
    r"|tidegate\.store\._(postgres|pg_store|duckdb)\b|\bpsycopg\b|\bduckdb\.connect\b"
)
# (file, part of the literal): example queries shown to a person, never run.
ALLOWED_TEXT = {
    ("audit/_sql.py", 'pass one statement such as "SELECT * FROM audit"'),
    ("audit/_sql.py", "`tidegate audit sql` only reads (SELECT, FROM ..., "),
    ("cli/_audit.py", 'e.g. "SELECT * FROM audit"'),
    ("cli/_audit.py", 'check the value with `tidegate audit sql "SELECT * FROM '),
    ("cli/_summary.py", ' "SELECT * FROM orders LIMIT 10"'),
    ("cli/_summary.py", '"SELECT source, record, rules, errors FROM quarantine WHERE status'),
}
# (file, part of the line): a line that looks like a dialect check and is not one.
ALLOWED_CODE: set[tuple[str, str]] = set()


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if not name.startswith(NOT_THE_STORE):
            out.append((name, path))
    return out


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal (an f-string as one text, ``{}`` for each value), docstrings
    left out."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):  # its parts are read as one text below
            skip.update(id(v) for v in node.values)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            found.append((node.lineno, node.value))
    return found


def sql_outside_the_store() -> list[str]:
    problems = []
    for name, path in _modules():
        source = path.read_text(encoding="utf-8")
        for line, text in _literals(ast.parse(source)):
            if SQL.search(text) and not any(name == f and part in text for f, part in ALLOWED_TEXT):
                problems.append(f"{name}:{line}: SQL text {text[:70]!r}")
        for number, code in enumerate(source.splitlines(), 1):
            stripped = code.strip()
            if stripped.startswith("#") or not DIALECT.search(stripped):
                continue
            if not any(name == f and part in stripped for f, part in ALLOWED_CODE):
                problems.append(f"{name}:{number}: dialect check or store internals {stripped!r}")
    return problems


def test_no_sql_and_no_dialect_check_outside_the_store() -> None:
    problems = sql_outside_the_store()
    assert not problems, "move these into src/tidegate/store/:\n" + "\n".join(problems)


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The patterns catch the shapes of SQL and dialect checks the store moved in."""
    for text in (
        "SELECT count(*) FROM audit WHERE source = ?",
        "INSERT INTO audit (seq) VALUES (?)",
        "CREATE TABLE IF NOT EXISTS t (x INT)",
        "SELECT pg_advisory_lock(1)",
        "SET LOCAL statement_timeout = 1000",
        "BEGIN READ ONLY",
        "SELECT column_name FROM information_schema.columns",
    ):
        assert SQL.search(text), text
    for code in (
        "if isinstance(store, PostgresStore):",
        'cast = "CAST" if is_postgres_connection(con) else "TRY_CAST"',
        "rows = con.execute(sql).fetchall()",
        "from tidegate.store._postgres import pg_connect",
    ):
        assert DIALECT.search(code), code
    for text in (
        "the store refused the update",
        "--set {} is not valid; write --set column=value",
        "commit",
        "run `tidegate server start`",
    ):
        assert not SQL.search(text), text
