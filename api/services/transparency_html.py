"""The transparency report as one self-contained HTML page: the Quantitative Template's sections
(``api.services.transparency_report``), each breakdown as an inline SVG bar chart and a table, then the Qualitative
Template's texts (no script, no stylesheet or font from elsewhere). Keys read as labels ("Scams and fraud", not
``STATEMENT_CATEGORY_SCAMS_AND_FRAUD``); every figure cell carries ``data-figure`` and every breakdown row its
``data-key``, so a reader's tools, and the tests, can check the page against the JSON and the CSV."""

from __future__ import annotations

from html import escape
from typing import Any

from api.services.transparency_csv import cell
from api.services.transparency_report import QUALITATIVE, QUANTITATIVE, Item, label

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f24;
line-height:1.4;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.2rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;min-width:24rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#57606a;font-size:.9rem}.text{white-space:pre-wrap}svg text{font-size:12px;fill:#1b1f24}
"""
BAR_HEIGHT, LABEL_WIDTH, BAR_WIDTH = 22, 330, 300
DAYS_FROM_HOURS = 48  # a median of at least this many hours is also shown in days


def _figure(item: Item, value: Any) -> str:
    shown = escape(cell(value)) if value is not None else ""
    extra = ""
    if value is None:
        extra = '<span class="note">not applicable or not recorded</span>'
    elif "_hours_" in item.name and float(value) >= DAYS_FROM_HOURS:
        extra = f'<span class="note"> ({float(value) / 24:.1f} days)</span>'
    return f'<td class="n" data-figure="{item.name}">{shown}{extra}</td>'


def _chart(item: Item, rows: list[dict[str, Any]]) -> str:
    """A horizontal bar chart of one breakdown (inline SVG, scaled to its largest row)."""
    top = max(r["count"] for r in rows) or 1
    height = BAR_HEIGHT * len(rows) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 60
    bars = []
    for i, row in enumerate(rows):
        y = 4 + i * BAR_HEIGHT
        length = max(1, round(BAR_WIDTH * row["count"] / top))
        shown = escape(label(row["key"], item.dimension))
        bars.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{shown}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{BAR_HEIGHT - 6}" fill="#0969da">'
            f"<title>{shown}: {row['count']}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 15}">{row["count"]}</text>'
        )
    return (
        f'<svg role="img" aria-label="{escape(item.label)}" data-chart="{item.name}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
    )


def _breakdown(item: Item, rows: list[dict[str, Any]]) -> str:
    title = f"<h3>{escape(item.label)}</h3>"
    if not rows:
        return f'{title}<p class="note" data-empty="{item.name}">None in this period.</p>'
    body = "".join(
        f'<tr data-key="{escape(r["key"])}"><td>{escape(label(r["key"], item.dimension))}</td>'
        f'<td class="n" data-figure="{item.name}">{r["count"]}</td></tr>'
        for r in rows
    )
    return f'{title}{_chart(item, rows)}<table data-table="{item.name}"><tr><th></th><th>Count</th></tr>{body}</table>'


def _section(number: int, title: str, items: tuple[Item, ...], report: dict[str, Any]) -> str:
    single = "".join(
        f"<tr><td>{escape(i.label)}</td>{_figure(i, report[i.name])}</tr>" for i in items if i.dimension is None
    )
    table = f'<table data-table="section-{number}">{single}</table>' if single else ""
    broken = "".join(_breakdown(i, report[i.name]) for i in items if i.dimension is not None)
    return f"<h2>{number}. {escape(title)}</h2>{table}{broken}"


def render_html(report: dict[str, Any]) -> str:
    """The page for a report document (``api.services.transparency_report.report_document``)."""
    region = escape(str(report["region"]))
    period = f"{escape(report['period_start'])} to {escape(report['period_end'])}"
    provider = escape(report.get("service_name") or report.get("provider_name") or "")
    sections = "".join(_section(s.number, s.title, s.items, report) for s in QUANTITATIVE)
    texts = "".join(
        f'<h3>{escape(title)}</h3><p class="text" data-text="{key}">'
        f"{escape(report['qualitative'][key]) or '<span class=note>Not provided.</span>'}</p>"
        for key, title in QUALITATIVE
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Transparency report: {provider} {region}, {period}</title><style>{CSS}</style></head><body>"
        f"<h1>Transparency report{': ' + provider if provider else ''}</h1>"
        f"<p>Region <strong>{region}</strong>, {period} (both days included). Figures under Articles 15 and 24 of "
        f"the EU Digital Services Act, laid out on the templates of {escape(report['template'])}. Times are "
        "medians.</p>"
        f"{sections}<h2>Qualitative information</h2>{texts}"
        '<p class="note">Each restriction is counted once per decision and type of restriction; a warning restricts '
        "nothing and is counted apart. Art. 16 notices are reports from users and trusted flaggers; classifier "
        "reports, staff flags and rule hits are the provider's own initiative. The notifier's Member State is not "
        "recorded.</p></body></html>"
    )
