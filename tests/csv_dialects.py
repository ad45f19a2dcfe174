"""Small CSV files in the dialects people send, and what DuckDB's sniff_csv finds in
each (shared by the sniffer tests and the `new source` / `schema infer` tests)."""

from __future__ import annotations

from tidegate.sources._sniff import Dialect

# name -> (file text, the dialect sniff_csv finds, its non-default pipeline options,
#          the columns a reader in that dialect sees, the values of the second column)
CASES = {
    "semicolon": (
        "id;name;amount\n1;Ann;3,50\n2;Bob;4,00\n3;Cy;5,25\n",
        Dialect(delimiter=";", columns=3),
        {"delimiter": ";"},
        ["id", "name", "amount"],
        ["Ann", "Bob", "Cy"],
    ),
    "tab": (
        "id\tname\tqty\n1\tAnn\t3\n2\tBob\t4\n3\tCy\t5\n",
        Dialect(delimiter="\t", columns=3),
        {"delimiter": "\t"},
        ["id", "name", "qty"],
        ["Ann", "Bob", "Cy"],
    ),
    "pipe_quoted": (
        'id|name|note\n1|"Ann|B"|x\n2|"Bob"|"a|b"\n3|Cy|z\n',
        Dialect(delimiter="|", columns=3),
        {"delimiter": "|"},
        ["id", "name", "note"],
        ["Ann|B", "Bob", "Cy"],
    ),
    "preamble": (
        "Report generated 2026-01-01\nby system X\nid;name;amount\n1;Ann;3\n2;Bob;4\n3;Cy;5\n",
        Dialect(delimiter=";", skip_rows=2, columns=3),
        {"delimiter": ";", "skip_rows": 2},
        ["id", "name", "amount"],
        ["Ann", "Bob", "Cy"],
    ),
    "headerless": (
        "1,ann,2024-01-02,3.5\n2,bob,2024-01-03,4.5\n3,cy,2024-02-01,1.0\n",
        Dialect(header_rows=0, columns=4),
        {"header_rows": 0, "columns": 4},
        ["column_1", "column_2", "column_3", "column_4"],
        ["ann", "bob", "cy"],
    ),
    "backslash_escape": (
        'id,name,note\n1,"say \\"hi\\"",x\n2,"a\\"b",y\n3,plain,z\n',
        Dialect(escape="\\", columns=3),
        {"escape": "\\"},
        ["id", "name", "note"],
        ['say "hi"', 'a"b', "plain"],
    ),
    "single_quote": (
        "id,name,note\n1,'Ann, B',x\n2,'Bob, C',y\n3,Cy,z\n",
        Dialect(quote="'", escape="'", columns=3),
        {"quote": "'"},
        ["id", "name", "note"],
        ["Ann, B", "Bob, C", "Cy"],
    ),
}
