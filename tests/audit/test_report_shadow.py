"""`tidegate report` has a Shadow section per source with shadow data, on both stores:
the candidate, its batches, ratios, rules and gates, all as escaped text."""

from __future__ import annotations

import re
from pathlib import Path

from shadow_support import (
    append_batches,
    candidate_hash,
    make_project,
    shadow,
    shadowed_history,
    tg,
)
from tidegate.store import Store


def section(html: str) -> str:
    found = re.search(r'<section id="shadow">(.*?)</section>', html, re.S)
    assert found, "no Shadow section"
    return found.group(1)


def test_the_shadow_section_shows_the_candidates_figures_and_gates(
    store: Store, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", {"new_failures_ratio": {"lt": 0.001}})
    shadowed_history(store, root)
    out = tmp_path / "r.html"
    result = tg(store, root, "report", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "shadow, orders: candidate schemas/orders.v4.yaml over 3 batches" in result.output
    assert "gates: 1 of 1 fail" in result.output
    html = section(out.read_text(encoding="utf-8"))
    assert "orders: candidate <code>schemas/orders.v4.yaml</code> v4" in html
    assert candidate_hash(root)[:12] in html and "3 batches (newest 20)" in html
    assert "2 batches of older candidate texts ignored" in html
    assert '<td class="num" data-field="rows">400</td>' in html
    assert "5 (1.25%)" in html and "20 (5.00%)" in html
    assert '<tr data-rule="amount.le"><td><code>amount.le</code></td>' in html
    assert '<td class="num">3</td>' in html  # amount.le newly failed in b1 and b2
    assert '<tr data-gate="new_failures_ratio.lt" class="warn">' in html
    assert "<td>fails</td>" in html and "12 of <code>b1</code>" in html


def test_values_from_the_audit_are_escaped(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    detail = shadow(candidate_hash(root), 10, 1, 0, {"<script>alert(1)</script>": 1}, [2])
    append_batches(store, [("b<i>1", "batch_committed", detail)])
    out = tmp_path / "r.html"
    assert tg(store, root, "report", "-o", str(out)).exit_code == 0
    html = section(out.read_text(encoding="utf-8"))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "b&lt;i&gt;1" in html and "No promote_if gates in the pipeline file." in html


def test_no_shadow_data_no_section(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    append_batches(store, [("b-plain", "batch_committed", None)])
    out = tmp_path / "r.html"
    assert tg(store, root, "report", "-o", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="summary"' in html and 'id="shadow"' not in html


def test_a_promotion_in_the_audit_keeps_the_report_and_the_chain_whole(
    store: Store, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", {"batches": {"ge": 3}})
    shadowed_history(store, root)
    assert tg(store, root, "schema", "promote", "orders", "--yes").exit_code == 0
    out = tmp_path / "r.html"
    result = tg(store, root, "report", "-o", str(out))
    assert result.exit_code == 0 and "chain intact (7 entries)" in result.output
    assert tg(store, root, "audit", "verify").exit_code == 0
    listed = tg(store, root, "audit", "list", "--event", "contract_promoted")
    assert listed.exit_code == 0 and "contract_promoted" in listed.output
