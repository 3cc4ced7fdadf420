"""Rule 2: priority is a pure integer function of severity, volume, reporter trust and reach."""

from __future__ import annotations

import pytest

from domain.policy import Severity
from domain.priority import more_severe, more_trusted, priority_score
from domain.report import ReportSource
from domain.sla import DEFAULT_SLA
from tests.unit.domain.builders import T0


def score(
    severity: Severity | None = Severity.MEDIUM,
    count: int = 1,
    source: ReportSource | None = ReportSource.USER,
    reach: int = 0,
) -> int:
    return priority_score(severity=severity, report_count=count, source=source, reach=reach)


def test_known_values() -> None:
    assert score(None, 0, None, 0) == 0
    assert score(Severity.LOW, 1, ReportSource.USER, 0) == 10 + 5
    assert score(Severity.HIGH, 3, ReportSource.TRUSTED_FLAGGER, 999) == 40 + 10 + 10 + 9
    assert score(Severity.SEVERE, 1000, ReportSource.LEGAL, 10**9) == 100


@pytest.mark.parametrize(
    ("lower", "higher"),
    [(Severity.LOW, Severity.MEDIUM), (Severity.MEDIUM, Severity.HIGH), (Severity.HIGH, Severity.SEVERE)],
)
def test_severity_orders_priority(lower: Severity, higher: Severity) -> None:
    assert score(severity=lower) < score(severity=higher)


def test_trust_orders_priority() -> None:
    user, automated, flagger, legal = (
        score(source=s)
        for s in (ReportSource.USER, ReportSource.AUTOMATED, ReportSource.TRUSTED_FLAGGER, ReportSource.LEGAL)
    )
    assert user < automated < flagger < legal


def test_volume_grows_then_caps() -> None:
    counts = [score(count=n) for n in (1, 3, 7, 15, 1000)]
    assert counts == sorted(counts)
    assert counts[0] < counts[3]
    assert counts[3] == counts[4]


def test_reach_is_log_scaled_and_capped() -> None:
    assert score(reach=0) < score(reach=10) < score(reach=1_000) < score(reach=100_000)
    assert score(reach=100_000) == score(reach=10**12)
    assert score(reach=1_000) - score(reach=100) == score(reach=100) - score(reach=10)


def test_result_is_int_within_bounds() -> None:
    value = score(Severity.SEVERE, 10**6, ReportSource.LEGAL, 10**15)
    assert isinstance(value, int)
    assert 0 <= value <= 100


def test_pickers() -> None:
    assert more_severe(None, Severity.LOW) is Severity.LOW
    assert more_severe(Severity.SEVERE, Severity.LOW) is Severity.SEVERE
    assert more_trusted(ReportSource.USER, ReportSource.LEGAL) is ReportSource.LEGAL
    assert more_trusted(None, None) is None


def test_sla_tightens_with_priority() -> None:
    assert DEFAULT_SLA.due_at(T0, 95) < DEFAULT_SLA.due_at(T0, 60) < DEFAULT_SLA.due_at(T0, 30)
    assert DEFAULT_SLA.due_at(T0, 30) < DEFAULT_SLA.due_at(T0, 0)
