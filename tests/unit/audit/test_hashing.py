"""Event hashes and chain links: deterministic, sensitive to every field, stable across a JSON round trip."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from persistence.audit import GENESIS, AuditRecord, canonical, chain_hash, event_hash, jsonable, row_for

AT = datetime(2026, 10, 3, 12, 30, 15, 123456, tzinfo=UTC)


class Colour(enum.Enum):
    RED = "RED"


def record(**overrides: object) -> AuditRecord:
    fields: dict[str, object] = {
        "occurred_at": AT,
        "actor_kind": "STAFF",
        "actor_id": "u-1",
        "action": "decideCase",
        "subject_kind": "Case",
        "subject_id": "c-1",
        "region": "US",
        "request_id": "r-1",
        "reason": None,
        "before": {"state": "ASSIGNED"},
        "after": {"state": "DECIDED"},
    }
    fields.update(overrides)
    return AuditRecord(**fields)  # type: ignore[arg-type]


def test_hash_is_deterministic() -> None:
    assert row_for(record())["event_hash"] == row_for(record())["event_hash"]


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": AT + timedelta(microseconds=1)},
        {"actor_kind": "PARTNER"},
        {"actor_id": "u-2"},
        {"action": "escalateCase"},
        {"subject_kind": "Account"},
        {"subject_id": "c-2"},
        {"region": "EU"},
        {"request_id": "r-2"},
        {"reason": "because"},
        {"before": {"state": "OPEN"}},
        {"after": {"state": "CLOSED"}},
    ],
)
def test_every_field_is_hashed(change: dict[str, object]) -> None:
    assert row_for(record(**change))["event_hash"] != row_for(record())["event_hash"]


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    other = AT.astimezone(timezone(timedelta(hours=5)))
    assert row_for(record(occurred_at=other))["event_hash"] == row_for(record())["event_hash"]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        row_for(record(occurred_at=datetime(2026, 1, 1)))


def test_hash_survives_a_jsonb_round_trip() -> None:
    """What PostgreSQL hands back (JSON-native values) hashes like what was written."""
    rich = record(
        after={"id": uuid.UUID(int=7), "when": AT, "tags": ("a", "b"), "colour": Colour.RED, "n": 3, "ok": True}
    )
    row = row_for(rich)
    reread = dict(row, after=json.loads(json.dumps(row["after"])), before=json.loads(json.dumps(row["before"])))
    assert event_hash(reread) == row["event_hash"]
    assert row["after"] == {
        "id": str(uuid.UUID(int=7)),
        "when": "2026-10-03T12:30:15.123456+00:00",
        "tags": ["a", "b"],
        "colour": "RED",
        "n": 3,
        "ok": True,
    }


def test_jsonable_keeps_json_natives() -> None:
    assert jsonable({"a": [1, "x", None, False]}) == {"a": [1, "x", None, False]}


def test_chain_links_bind_position_and_sequence() -> None:
    h = row_for(record())["event_hash"]
    base = chain_hash(GENESIS, 1, 10, h)
    assert chain_hash(GENESIS, 2, 10, h) != base
    assert chain_hash(GENESIS, 1, 11, h) != base
    assert chain_hash("f" * 64, 1, 10, h) != base
    assert len(base) == 64


def _json_canonical(fields: dict[str, object]) -> bytes:
    """The definition the stored hashes were computed with (``json.dumps``), to hold the fast path to."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def test_canonical_bytes_equal_the_json_definition_for_every_character() -> None:
    text = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF) + "\U0001f600\U0010ffff"
    for start in range(0, len(text), 997):
        fields = {"z": text[start : start + 997], "a": [1, -2, True, None, {"é": "\n\t\x00\x7f"}], "m": ""}
        assert canonical(fields) == _json_canonical(fields)


@pytest.mark.parametrize(
    "odd",
    [2**70, -(2**64), datetime(2026, 1, 2, tzinfo=UTC), uuid.UUID(int=7), Colour.RED, 1.5, 1e16],
    ids=["big-int", "big-negative", "datetime", "uuid", "enum", "float", "float-exponent"],
)
def test_canonical_bytes_equal_the_json_definition_for_what_events_hold(odd: object) -> None:
    fields = jsonable({"after": {"value": odd, "list": [odd]}, "actor_id": "x"})
    assert canonical(fields) == _json_canonical(fields)
    raw = {"after": {"value": odd}}
    if not isinstance(odd, enum.Enum):  # events never hold an enum: jsonable stores its value
        assert canonical(raw) == _json_canonical(raw)
