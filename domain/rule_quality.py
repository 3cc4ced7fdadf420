"""How good a rule is, measured without bias: the audit sample, precision with its 95% Wilson interval, the
minimum support before a figure is shown, and when a rule's hit rate jumps against its own baseline.

Every rule version has an audit sample rate (basis points; ``DEFAULT_SAMPLE_BP`` until someone sets one): a hit is
in the sample when ``domain.qa.sample_bucket(hit id)`` is below the rate, SHADOW and LIVE alike, so whether a hit
is reviewed does not depend on what anyone thought of it. Precision from the reviewed sample is unbiased; the
figure from subjects a person happened to decide later is shown beside it, named as biased (people decide what
was reported or looked wrong, not a random share).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Final

from domain.errors import DomainError
from domain.qa import SAMPLE_BUCKETS, sample_bucket

DEFAULT_SAMPLE_BP: Final = 500
"""5% of a version's hits go to human review unless its rule says otherwise."""
MIN_SUPPORT: Final = 20
"""Reviewed hits (or decided subjects) needed before a precision figure is shown."""
Z95: Final = 1.959963984540054

ALARM_FACTOR: Final = 3.0
"""An hour with at least this many times the baseline's hourly hits raises an alarm..."""
ALARM_MIN_HITS: Final = 20
"""... if it also has at least this many hits (a quiet rule's jump from 1 to 4 is noise)."""
BASELINE_HOURS: Final = 7 * 24
SNOOZE_MAX_DAYS: Final = 365


def in_audit_sample(hit_id: uuid.UUID, sample_bp: int) -> bool:
    return sample_bucket(hit_id) < sample_bp


def sample_bp_of(rate: float, field: str = "sampleRate") -> int:
    """A share in [0, 1] as basis points (refused outside, or not a number)."""
    if not isinstance(rate, int | float) or math.isnan(rate) or not 0.0 <= rate <= 1.0:
        raise DomainError.invalid_input("the sample rate is a share between 0 and 1", field)
    return round(rate * SAMPLE_BUCKETS)


def snooze_days(days: int, field: str = "snoozeDays") -> int:
    if not 1 <= days <= SNOOZE_MAX_DAYS:
        raise DomainError.invalid_input(f"a snooze lasts 1 to {SNOOZE_MAX_DAYS} days", field)
    return days


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (well behaved near 0 and 1 and for small samples)."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Precision:
    """A precision figure: ``value`` and its 95% interval are None below ``MIN_SUPPORT`` (``reason`` says why)."""

    support: int
    confirmed: int
    value: float | None
    low: float | None
    high: float | None
    reason: str | None

    @classmethod
    def of(cls, confirmed: int, support: int, minimum: int = MIN_SUPPORT) -> Precision:
        if support < minimum:
            reason = f"{support} of the {minimum} judged hits needed for a figure"
            return cls(support, confirmed, None, None, None, reason)
        low, high = wilson(confirmed, support)
        return cls(support, confirmed, confirmed / support, low, high, None)


def jumped(hits: int, baseline_per_hour: float) -> bool:
    """Whether an hour's hits are an alarm against the rule's own hourly baseline."""
    return hits >= ALARM_MIN_HITS and hits >= ALARM_FACTOR * max(baseline_per_hour, 1.0)
