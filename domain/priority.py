"""Case priority: a pure, integer score in [0, 100].

Formula::

    priority = min(100, severity + volume + trust + reach)
    severity = {None: 0, LOW: 10, MEDIUM: 25, HIGH: 40, SEVERE: 55}[highest severity reported]
    volume   = min(20, round(5 * log2(1 + report_count)))      # 1 report: 5, 3: 10, 7: 15, 15+: 20
    trust    = {None: 0, USER: 0, AUTOMATED: 5, INTERNAL: 8, TRUSTED_FLAGGER: 10, LEGAL: 15}[most trusted source]
    reach    = min(15, round(3 * log10(1 + views)))             # 10 views: 3, 1k: 9, 100k+: 15

An ad awaiting review with no report scores 0.
"""

from __future__ import annotations

import math
from typing import Final

from domain.policy import Severity
from domain.report import ReportSource

MAX_PRIORITY: Final = 100

SEVERITY_POINTS: Final[dict[Severity, int]] = {
    Severity.LOW: 10,
    Severity.MEDIUM: 25,
    Severity.HIGH: 40,
    Severity.SEVERE: 55,
}
TRUST_POINTS: Final[dict[ReportSource, int]] = {
    ReportSource.USER: 0,
    ReportSource.AUTOMATED: 5,
    ReportSource.INTERNAL: 8,
    ReportSource.TRUSTED_FLAGGER: 10,
    ReportSource.LEGAL: 15,
}
VOLUME_CAP: Final = 20
REACH_CAP: Final = 15


def priority_score(*, severity: Severity | None, report_count: int, source: ReportSource | None, reach: int) -> int:
    severity_pts = SEVERITY_POINTS[severity] if severity is not None else 0
    volume_pts = min(VOLUME_CAP, round(5 * math.log2(1 + max(0, report_count))))
    trust_pts = TRUST_POINTS[source] if source is not None else 0
    reach_pts = min(REACH_CAP, round(3 * math.log10(1 + max(0, reach))))
    return min(MAX_PRIORITY, severity_pts + volume_pts + trust_pts + reach_pts)


def more_severe(a: Severity | None, b: Severity | None) -> Severity | None:
    """The higher of two severities (``None`` is lowest)."""
    if a is None or b is None:
        return a or b
    return a if SEVERITY_POINTS[a] >= SEVERITY_POINTS[b] else b


def more_trusted(a: ReportSource | None, b: ReportSource | None) -> ReportSource | None:
    """The more trusted of two report sources (``None`` is lowest)."""
    if a is None or b is None:
        return a or b
    return a if TRUST_POINTS[a] >= TRUST_POINTS[b] else b
