"""The transparency report as one self-contained HTML page: inline SVG bar charts and the same figures in tables
(no script, no stylesheet or font from elsewhere). Every figure cell carries ``data-figure`` (and every breakdown
row ``data-key``), so a reader's tools, and the tests, can check the page against the JSON."""

from __future__ import annotations

from html import escape
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f24;
line-height:1.4;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.2rem}table{border-collapse:collapse;margin:.5rem 0 1rem;min-width:24rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#57606a;font-size:.9rem}svg text{font-size:12px;fill:#1b1f24}
"""
BREAKDOWNS = (
    ("notices_by_category", "Notices by category"),
    ("notices_by_source", "Notices by source"),
    ("notices_by_member_state", "Notices by member state of the notifier"),
    ("actions_by_type", "Actions by type"),
    ("actions_by_ground", "Actions by ground"),
    ("actions_by_category", "Actions by category"),
    ("trusted_flagger_notices_by_category", "Trusted-flagger notices by category"),
)
TOTALS = (
    ("notices", "Notices received"),
    ("trusted_flagger_notices", "of which from trusted flaggers"),
    ("actions", "Actions taken"),
    ("violating_decisions", "Decisions finding a violation"),
    ("automated_detection", "of which detected by automated means"),
    ("automated_decisions", "of which decided by automated means"),
    ("median_notice_to_action_seconds", "Median time from notice to action (seconds)"),
    ("trusted_flagger_median_notice_to_action_seconds", "Median time from a trusted flagger's notice to action (s)"),
    ("complaints_received", "Complaints (appeals) received"),
    ("complaints_decided", "Complaints decided"),
    ("complaints_overturned", "Complaints that reversed the decision"),
    ("median_complaint_decision_seconds", "Median time to decide a complaint (seconds)"),
)
BAR_HEIGHT, LABEL_WIDTH, BAR_WIDTH = 22, 330, 300


def _value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _chart(name: str, title: str, rows: list[dict[str, Any]]) -> str:
    """A horizontal bar chart of one breakdown (inline SVG, scaled to its largest row)."""
    if not rows:
        return ""
    top = max(r["count"] for r in rows) or 1
    height = BAR_HEIGHT * len(rows) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 60
    bars = []
    for i, row in enumerate(rows):
        y = 4 + i * BAR_HEIGHT
        length = max(1, round(BAR_WIDTH * row["count"] / top))
        label = escape(_short(row["key"]))
        bars.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{label}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{BAR_HEIGHT - 6}" fill="#0969da">'
            f"<title>{escape(row['key'])}: {row['count']}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 15}">{row["count"]}</text>'
        )
    return (
        f'<svg role="img" aria-label="{escape(title)}" data-chart="{name}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
    )


def _short(key: str) -> str:
    for prefix in ("STATEMENT_CATEGORY_", "DECISION_GROUND_"):
        key = key.removeprefix(prefix)
    return key.replace("_", " ").lower().capitalize()


def _table(name: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="note">None in this period.</p>'
    body = "".join(
        f'<tr data-key="{escape(r["key"])}"><td>{escape(r["key"])}</td>'
        f'<td class="n" data-figure="{name}">{r["count"]}</td></tr>'
        for r in rows
    )
    return f'<table data-table="{name}"><tr><th>Key</th><th>Count</th></tr>{body}</table>'


def render_html(report: dict[str, Any]) -> str:
    """The page for the figures of ``TransparencyFigures.as_json()``."""
    region = escape(str(report["region"]))
    period = f"{escape(str(report['start']))} to {escape(str(report['end']))}"
    totals = "".join(
        f'<tr><td>{escape(label)}</td><td class="n" data-figure="{name}">{_value(report[name])}</td></tr>'
        for name, label in TOTALS
    )
    sections = "".join(
        f"<h2>{escape(title)}</h2>{_chart(name, title, report[name])}{_table(name, report[name])}"
        for name, title in BREAKDOWNS
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Transparency report: {region}, {period}</title><style>{CSS}</style></head><body>"
        f"<h1>Transparency report</h1><p>Region <strong>{region}</strong>, from {period} (end excluded). "
        "Figures under Articles 15 and 24 of the EU Digital Services Act.</p>"
        f'<h2>Totals</h2><table data-table="totals"><tr><th>Figure</th><th>Value</th></tr>{totals}</table>'
        f"{sections}"
        '<p class="note">The notifier\'s member state is not recorded, so notices by member state show one '
        "UNKNOWN row. Actions by ground come from each decision's statement of reasons.</p>"
        "</body></html>"
    )
