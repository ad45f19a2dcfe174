"""Render report figures as one self-contained HTML file: inline CSS and inline SVG.

No script, no font, no image is fetched when the file is opened: the charts are
SVG drawn here, hover text is SVG ``<title>``, so the file reads offline and in
a mail attachment. Figures come from :mod:`tidegate.audit._figures`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.audit._figures import (
    RUN_EVENTS,
    BatchRun,
    Figures,
    QuarantineState,
    RatioPoint,
    RuleCount,
    compute_figures,
)
from tidegate.audit._palette import (
    MEANING_COLORS,
    MEANING_TEXT,
    QUARANTINE_STATES,
    SOURCE_COLORS,
    source_colors,
)
from tidegate.audit._shadow_section import ShadowSection, shadow_sections
from tidegate.audit._verify import ChainReport, verify_entries, verify_keeping
from tidegate.store._quarantine import count_by_batch_and_status

if TYPE_CHECKING:
    from tidegate.pipelines._promote_if import Gates
    from tidegate.store import Store

TEMPLATES = Path(__file__).parent / "templates"
PALETTE = SOURCE_COLORS
# A batch's bar, bottom up: loaded, then its quarantine entries by their state now, then
# its duplicates (each segment in its meaning's colour).
STACK = ("loaded", "replayed", "rejected", "pending", "duplicate")
W, H = 1160, 300
M_LEFT, M_RIGHT, M_TOP, M_BOTTOM = 64, 16, 24, 76


@dataclass(frozen=True)
class Report:
    figures: Figures
    chain: ChainReport
    store: Store
    generated_at: datetime
    data_docs: dict[str, Path] = field(default_factory=dict)  # pipeline -> its Data Docs index
    shadow: list[ShadowSection] = field(default_factory=list)  # sources with shadow data


def meaning_attrs(meaning: str) -> str:
    """``data-meaning`` and ``fill`` of an SVG shape that shows ``meaning``."""
    return f'data-meaning="{meaning}" fill="{MEANING_COLORS[meaning]}"'


def axis_scale(value: float, ticks: int = 5) -> tuple[float, float]:
    """``(top, step)`` for an axis from 0: step is 1, 2 or 5 x 10^k, at most ``ticks`` steps."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step - 1e-9), step


def _num(v: float) -> str:
    return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}".rstrip("0")


def _svg(name: str, label: str, height: int, body: list[str]) -> str:
    return (
        f'<svg class="chart" data-chart="{name}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {W} {height}" '
        f'width="{W}" height="{height}">' + "".join(body) + "</svg>"
    )


def _empty(name: str, label: str, text: str) -> str:
    return _svg(
        name,
        label,
        80,
        [f'<text x="{W / 2}" y="45" text-anchor="middle" class="empty">{escape(text)}</text>'],
    )


def _y_axis(top: float, step: float, fmt: Callable[[float], str] = _num) -> list[str]:
    """Horizontal grid lines and labels every ``step`` from 0 to ``top``."""
    out, plot_h = [], H - M_TOP - M_BOTTOM
    for i in range(round(top / step) + 1):
        v = step * i
        y = M_TOP + plot_h - plot_h * v / top
        out.append(
            f'<line class="grid" x1="{M_LEFT}" x2="{W - M_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{M_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(v))}</text>"
        )
    return out


def _x_labels(runs: list[BatchRun], step: float) -> list[str]:
    """Source and time under each bar: two centred lines when there is room, else slanted."""
    out, y = [], H - M_BOTTOM + 14
    if step >= 90:
        for i, r in enumerate(runs):
            x = M_LEFT + step * (i + 0.5)
            out.append(
                f'<text class="tick" x="{x:.1f}" y="{y}" text-anchor="middle">{escape(r.source)}'
                f'<tspan x="{x:.1f}" dy="13">{r.at:%m-%d %H:%M:%S}</tspan></text>'
            )
        return out
    every = max(1, math.ceil(14 / step))
    for i, r in enumerate(runs[::every]):
        x = M_LEFT + step * (i * every + 0.5)
        out.append(
            f'<text class="tick" transform="translate({x:.1f},{y - 4}) rotate(-60)" '
            f'text-anchor="end">{escape(r.source)} {r.at:%m-%d %H:%M}</text>'
        )
    return out


def _segments(r: BatchRun, state: QuarantineState) -> dict[str, int]:
    """A batch's rows by fate: its quarantine entries split by their state now."""
    return {
        "loaded": r.loaded,
        "replayed": state.replayed,
        "rejected": state.rejected,
        "pending": state.pending,
        "duplicate": r.duplicates,
    }


def rows_per_run_chart(runs: list[BatchRun], figures: Figures | None = None) -> str:
    """Stacked bars per batch, in time order: loaded, its quarantine entries by their
    state now (replayed, rejected, pending), duplicates; held batches marked."""
    name, label = "rows-per-run", "Rows per batch: loaded, quarantine now, duplicates"
    if not runs:
        return _empty(name, label, "no batches in this window")

    def state(r: BatchRun) -> QuarantineState:
        if figures is None:
            return QuarantineState(pending=r.quarantined)
        return figures.batch_state(r.batch_id)

    top, tick = axis_scale(max(max(sum(_segments(r, state(r)).values()), 1) for r in runs))
    plot_h = H - M_TOP - M_BOTTOM
    step = (W - M_LEFT - M_RIGHT) / len(runs)
    bar = max(2.0, min(48.0, step * 0.7))
    body = _y_axis(top, tick)
    for i, r in enumerate(runs):
        x, base = M_LEFT + step * (i + 0.5) - bar / 2, float(M_TOP + plot_h)
        for key, n in _segments(r, state(r)).items():
            if not n:
                continue
            h = plot_h * n / top
            base -= h
            tip = (
                f"{r.source} {r.at:%Y-%m-%d %H:%M:%S} {Path(r.location).name}: "
                f"{n} {MEANING_TEXT[key]}"
            )
            body.append(
                f'<rect class="bar {key}" data-batch="{escape(r.batch_id)}" data-count="{n}" '
                f'x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" {meaning_attrs(key)}><title>{escape(tip)}</title></rect>'
            )
        if r.held:
            body.append(
                f'<text class="held" {meaning_attrs("held")} x="{x + bar / 2:.1f}" '
                f'y="{base - 4:.1f}" text-anchor="middle">held</text>'
            )
    body += _x_labels(runs, step)
    body += _legend([(MEANING_TEXT[k], MEANING_COLORS[k], k) for k in (*STACK, "held")])
    return _svg(name, label, H, body)


def quarantine_now_chart(figures: Figures) -> str:
    """Per source, one bar: its quarantine entries now, pending, replayed and rejected."""
    name, label = "quarantine-now", "Quarantine now per source: pending, replayed, rejected"
    states = {s: q for s, q in figures.quarantine_now.items() if q.total}
    if not states:
        return _empty(name, label, "no quarantine entries")
    left, row_h = 200, 26
    height = M_TOP + row_h * len(states) + 10
    top = max(q.total for q in states.values())
    body = []
    for i, (source, q) in enumerate(states.items()):
        y, x = M_TOP + i * row_h, float(left)
        body.append(
            f'<text class="tick" x="{left - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(source)}</text>"
        )
        for status in QUARANTINE_STATES:
            n = getattr(q, status)
            if not n:
                continue
            w = (W - left - 260) * n / top
            body.append(
                f'<rect class="bar {status}" data-source="{escape(source)}" data-count="{n}" '
                f'x="{x:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="16" '
                f"{meaning_attrs(status)}><title>{escape(source)}: {n} {status}</title></rect>"
            )
            x += max(w, 1)
        body.append(
            f'<text class="value" x="{x + 6:.1f}" y="{y + 16}">{escape(q.describe())}</text>'
        )
    body += _legend([(s, MEANING_COLORS[s], s) for s in QUARANTINE_STATES], y=4)
    return _svg(name, label, height, body)


def _legend(items: list[tuple[str, str, str]], y: int = 4) -> list[str]:
    """(text, colour, what it is: a meaning or ``source``) per swatch."""
    out, x = [], M_LEFT
    for text, color, what in items:
        tag = "data-source" if what == "source" else "data-meaning"
        value = text if what == "source" else what
        out.append(
            f'<rect {tag}="{escape(value)}" x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'
        )
        out.append(f'<text class="legend" x="{x + 14}" y="{y + 9}">{escape(text)}</text>')
        x += 24 + 7 * len(text)
    return out


def _time_ticks(t0: float, t1: float) -> list[tuple[float, str]]:
    span = t1 - t0
    fmt = "%Y-%m-%d" if span > 3 * 86400 else ("%m-%d %H:%M" if span > 3600 else "%H:%M:%S")
    ticks: list[tuple[float, str]] = []
    for t in (t0 + span * i / 4 for i in range(5)):
        text = datetime.fromtimestamp(t, UTC).strftime(fmt)
        if not ticks or ticks[-1][1] != text:
            ticks.append((t, text))
    return ticks


def ratio_chart(series: dict[str, list[RatioPoint]], colors: dict[str, str]) -> str:
    """Quarantine ratio of each batch, one line per source, on a time axis."""
    name, label = "quarantine-ratio", "Quarantine ratio per source over time"
    points = [p for ps in series.values() for p in ps]
    if not points:
        return _empty(name, label, "no batches with rows in this window")
    t0 = min(p.at for p in points).timestamp()
    t1 = max(p.at for p in points).timestamp()
    if t1 - t0 < 1:
        t0, t1 = t0 - 30, t1 + 30
    top, tick = axis_scale(min(1.0, max(p.ratio for p in points)))
    plot_w, plot_h = W - M_LEFT - M_RIGHT - 20, H - M_TOP - M_BOTTOM

    def xy(p: RatioPoint) -> tuple[float, float]:
        x = M_LEFT + 10 + plot_w * (p.at.timestamp() - t0) / (t1 - t0)
        return x, M_TOP + plot_h - plot_h * min(p.ratio, top) / top

    digits = 0 if tick >= 0.01 else 1
    body = _y_axis(top, tick, lambda v: f"{v:.{digits}%}")
    for t, text in _time_ticks(t0, t1):
        x = M_LEFT + 10 + plot_w * (t - t0) / (t1 - t0)
        anchor = "start" if t - t0 < 1e-6 else ("end" if t1 - t < 1e-6 else "middle")
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{H - M_BOTTOM + 16}" '
            f'text-anchor="{anchor}">{escape(text)}</text>'
        )
    for source, ps in series.items():
        color, coords = colors[source], [xy(p) for p in ps]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(
            f'<polyline class="line" data-source="{escape(source)}" fill="none" '
            f'stroke="{color}" stroke-width="2" '
            f'points="{path}"/>'
        )
        for p, (x, y) in zip(ps, coords, strict=True):
            tip = f"{source} {p.at:%Y-%m-%d %H:%M:%S}: {p.ratio:.1%} quarantined ({p.batch_id})"
            body.append(
                f'<circle class="point" data-source="{escape(source)}" cx="{x:.1f}" '
                f'cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    body += _legend([(s, colors[s], "source") for s in series])
    return _svg(name, label, H, body)


def rules_chart(rules: list[RuleCount], colors: dict[str, str]) -> str:
    """Horizontal bars: failing rows per rule, most first."""
    name, label = "top-rules", "Top failing rules by rows"
    if not rules:
        return _empty(name, label, "no failing rules in this window")
    left, row_h = 260, 24
    height = M_TOP + row_h * len(rules) + 10
    top = max(r.rows for r in rules)
    body = []
    for i, r in enumerate(rules):
        y = M_TOP + i * row_h
        w = (W - left - 60) * r.rows / top
        text = f"{r.source} · {r.rule}"
        color = colors.get(r.source, SOURCE_COLORS[0])
        body += [
            f'<text class="tick" x="{left - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(text)}</text>",
            f'<rect class="bar rule" data-source="{escape(r.source)}" x="{left}" y="{y + 3}" '
            f'width="{max(w, 1):.1f}" height="16" fill="{color}">'
            f"<title>{escape(text)}: {r.rows} rows</title></rect>",
            f'<text class="value" x="{left + w + 6:.1f}" y="{y + 15}">{r.rows}</text>',
        ]
    return _svg(name, label, height, body)


def duration_chart(runs: list[BatchRun], colors: dict[str, str]) -> str:
    """Bars per batch: time from normalize to commit, in milliseconds."""
    name, label = "run-duration", "Batch duration (ms)"
    timed = [r for r in runs if r.duration_ms is not None]
    if not timed:
        return _empty(name, label, "no batch durations in this window")
    top, tick = axis_scale(max(r.duration_ms or 0 for r in timed))
    plot_h = H - M_TOP - M_BOTTOM
    step = (W - M_LEFT - M_RIGHT) / len(timed)
    bar = max(2.0, min(48.0, step * 0.7))
    body = _y_axis(top, tick, lambda v: f"{_num(v)} ms")
    for i, r in enumerate(timed):
        h = plot_h * (r.duration_ms or 0) / top
        x = M_LEFT + step * (i + 0.5) - bar / 2
        tip = f"{r.source} {r.at:%Y-%m-%d %H:%M:%S} {Path(r.location).name}: {r.duration_ms} ms"
        body.append(
            f'<rect class="bar duration" data-source="{escape(r.source)}" x="{x:.1f}" '
            f'y="{M_TOP + plot_h - h:.1f}" '
            f'width="{bar:.1f}" height="{max(h, 1):.1f}" fill="{colors[r.source]}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    body += _x_labels(timed, step)
    body += _legend([(s, colors[s], "source") for s in sorted({r.source for r in timed})])
    return _svg(name, label, H, body)


def charts(figures: Figures) -> dict[str, str]:
    colors = source_colors(figures.sources)
    return {
        "rows_per_run": rows_per_run_chart(figures.runs, figures),
        "quarantine_now": quarantine_now_chart(figures),
        "quarantine_ratio": ratio_chart(figures.ratio_by_source, colors),
        "top_rules": rules_chart(figures.top_rules, colors),
        "run_duration": duration_chart(figures.runs, colors),
    }


def render_report(report: Report) -> str:
    """The whole HTML document as text."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html").render(
        r=report,
        f=report.figures,
        charts={k: Markup(v) for k, v in charts(report.figures).items()},
        css=Markup(css),
        file_name=Path,
        colors=MEANING_COLORS,
        meaning_text=MEANING_TEXT,
    )


def load_report(
    store: Store,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    promote_if: dict[str, Gates] | None = None,
) -> Report:
    """Read the audit trail and the quarantine's state now (read-only), verify the chain
    and compute the figures, and the shadow picture of each source that has one
    (judged against its pipeline's ``promote_if`` gates, source -> gates)."""
    chain = verify_keeping(  # the chain by windows; only the run events drawn are kept
        store, lambda e: e.event in RUN_EVENTS and source in (None, e.source)
    )
    entries = [] if chain is None else chain.kept
    counts = count_by_batch_and_status(store) if chain is not None and chain.entries else []
    return Report(
        figures=compute_figures(
            entries, source=source, since=since, until=until, quarantine_counts=counts
        ),
        chain=verify_entries([]) if chain is None else chain.report,
        store=store,
        generated_at=datetime.now(UTC),
        shadow=shadow_sections(entries, source, promote_if or {}),
    )


def write_report(
    store: Store,
    output: Path,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    data_docs: dict[str, Path] | None = None,
    promote_if: dict[str, Gates] | None = None,
) -> Report:
    report = load_report(store, source=source, since=since, until=until, promote_if=promote_if)
    report = replace(report, data_docs=dict(data_docs or {}))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_report(report), encoding="utf-8")
    return report
