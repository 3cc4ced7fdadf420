"""The transparency report as CSV (RFC 4180, UTF-8), the machine-readable form of the Commission's templates
(``api.services.transparency_report``): the Quantitative Template one indicator value a row, section by section in the
Annex's order; the Qualitative Template one free-text indicator a row.

Quantitative columns: ``section`` (its number), ``section_title``, ``field`` (the indicator's name in the JSON
report), ``indicator`` (its wording), ``dimension`` and ``key`` (a breakdown's dimension and value, empty for a
single figure), ``label`` (the key as a reader reads it) and ``value`` (empty: not applicable or not recorded). A
breakdown with nothing in it is one row with an empty key and the value 0.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from api.services.transparency_report import QUALITATIVE, QUANTITATIVE, label

QUANTITATIVE_HEADER = ("section", "section_title", "field", "indicator", "dimension", "key", "label", "value")
QUALITATIVE_HEADER = ("indicator", "label", "text")


def cell(value: Any) -> str:
    """A figure as every form of the report writes it."""
    if value is None:
        return ""
    return str(value)


def quantitative_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(QUANTITATIVE_HEADER)
    for section in QUANTITATIVE:
        head = (section.number, section.title)
        for item in section.items:
            value = document[item.name]
            if item.dimension is None:
                writer.writerow((*head, item.name, item.label, "", "", "", cell(value)))
                continue
            for row in value or [{"key": "", "count": 0}]:
                shown = label(row["key"], item.dimension) if row["key"] else ""
                writer.writerow((*head, item.name, item.label, item.dimension, row["key"], shown, cell(row["count"])))
    return out.getvalue()


def qualitative_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(QUALITATIVE_HEADER)
    for key, text in QUALITATIVE:
        writer.writerow((key, text, document["qualitative"][key]))
    return out.getvalue()
