"""The JSON log formatter's shortcuts answer what the plain expressions they replace answer."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from api.logs import JsonFormatter, scrub, timestamp


def _plain(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False, allow_infinity=False))
def test_timestamp_is_isoformat_of_fromtimestamp(created: float) -> None:
    assert timestamp(created) == _plain(created)


def test_timestamp_at_the_edges_of_a_second() -> None:
    """Fractions that round up to the next whole second (and so to the next minute, day, year), exact halves of a
    microsecond, and a second asked for again after another one."""
    edges = [
        1_767_225_599.9999996,  # 2025-12-31T23:59:59.9999996: rounds into the new year
        1_767_225_599.9995,
        1_767_225_600.0,
        1_700_000_000.0000005,
        1_700_000_000.0000015,
        1_700_000_000.999,
        1_700_000_001.001,
        1_700_000_000.5,
        0.0,
        0.0004,
    ]
    for created in edges + edges[::-1]:
        assert timestamp(created) == _plain(created), created
    below = math.nextafter(1_767_225_600.0, 0)
    assert timestamp(below) == _plain(below)


def test_timestamp_before_1970_falls_back() -> None:
    assert timestamp(-1.25) == _plain(-1.25)


def test_scrub_leaves_text_without_detail_and_hides_detail() -> None:
    assert scrub("graphql operation") == "graphql operation"
    hidden = scrub("duplicate key\nDETAIL: Key (email)=(jane@example.com) already exists.")
    assert "jane@example.com" not in hidden
    assert hidden.endswith("DETAIL: [hidden: may hold row values]")


def test_a_line_is_what_json_dumps_wrote() -> None:
    """The same keys, values and text as ``json.dumps(payload, default=str)`` (extras in order, non-JSON values
    as their ``str``)."""
    record = logging.LogRecord("vigil.http", logging.WARNING, __file__, 1, "request %s", ("x",), None)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record.__dict__.update(method="POST", status=200, duration_ms=1e-05, when=when, codes=["A", "B"], _hidden=1)
    line = JsonFormatter().format(record)
    expected = {
        "ts": _plain(record.created),
        "level": "warning",
        "logger": "vigil.http",
        "msg": "request x",
        "method": "POST",
        "status": 200,
        "duration_ms": 1e-05,
        "when": str(when),
        "codes": ["A", "B"],
    }
    assert line == json.dumps(expected, default=str)
