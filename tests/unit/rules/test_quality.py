"""domain.rule_quality: the Wilson interval, the minimum support, the sample rate and snooze bounds, the alarm."""

from __future__ import annotations

import math
import uuid

import pytest

from domain.errors import DomainError
from domain.qa import sample_bucket
from domain.rule_quality import MIN_SUPPORT, Precision, in_audit_sample, jumped, sample_bp_of, snooze_days, wilson


def test_wilson_matches_the_textbook_values_and_stays_within_zero_and_one() -> None:
    low, high = wilson(18, 20)
    assert (round(low, 4), round(high, 4)) == (0.699, 0.9721)
    assert wilson(0, 20)[0] == 0.0
    assert wilson(20, 20)[1] == 1.0
    assert 0.0 < wilson(20, 20)[0] < 1.0  # all confirmed is still not certainty
    assert wilson(0, 0) == (0.0, 1.0)
    narrow, wide = wilson(900, 1000), wilson(9, 10)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


def test_no_figure_below_the_minimum_support() -> None:
    below = Precision.of(MIN_SUPPORT - 1, MIN_SUPPORT - 1)
    assert (below.value, below.low, below.high) == (None, None, None)
    assert below.reason == f"{MIN_SUPPORT - 1} of the {MIN_SUPPORT} judged hits needed for a figure"
    at = Precision.of(15, MIN_SUPPORT)
    assert (at.value, at.reason) == (0.75, None)
    assert at.low is not None
    assert at.high is not None
    assert at.low < 0.75 < at.high


def test_the_sample_is_the_qa_bucket_of_the_hit_id() -> None:
    ids = [uuid.UUID(int=i * 7919) for i in range(200)]
    assert [in_audit_sample(i, 2500) for i in ids] == [sample_bucket(i) < 2500 for i in ids]
    assert not any(in_audit_sample(i, 0) for i in ids)
    assert all(in_audit_sample(i, 10_000) for i in ids)


@pytest.mark.parametrize("rate", [-0.1, 1.01, math.nan, math.inf])
def test_a_sample_rate_is_a_share(rate: float) -> None:
    with pytest.raises(DomainError) as refused:
        sample_bp_of(rate)
    assert refused.value.field == "sampleRate"


def test_rates_and_snoozes_in_bounds() -> None:
    assert (sample_bp_of(0.0), sample_bp_of(0.05), sample_bp_of(1.0)) == (0, 500, 10_000)
    assert snooze_days(30) == 30
    for days in (0, -1, 366):
        with pytest.raises(DomainError):
            snooze_days(days)


def test_an_alarm_needs_both_volume_and_a_jump() -> None:
    assert jumped(25, 0.0)  # a new rule's first busy hour
    assert not jumped(19, 0.0)  # too few to tell
    assert not jumped(25, 10.0)  # steady: under three times its baseline
    assert jumped(30, 10.0)
