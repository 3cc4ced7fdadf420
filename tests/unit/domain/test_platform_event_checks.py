"""An event's checks: attributes that are not JSON are a typed error at their index, and the digest a re-sent key
is compared with stays what it was (digests stored earlier must still match)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.rules.event import Event
from domain.services.events import (
    _ATTRIBUTES_JSON,
    _COMPACT_JSON,
    SubmitEvent,
    _event_ids,
    attributes_text,
    check_event,
    digest,
)

NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


def _event(**attributes: object) -> SubmitEvent:
    return SubmitEvent(
        type="content.posted",
        region=Region.EU,
        entities={"account": "u-é", "content": 'c-"1"'},
        attributes=attributes,
        occurred_at=NOW,
        idempotency_key="k-1",
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"x": float("-inf")}])
def test_attributes_that_are_not_json_are_refused_at_their_index(value: object) -> None:
    with pytest.raises(DomainError) as refused:
        check_event(_event(score=value), index=3, now=NOW, may_submit=lambda _: True)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.field == "events[3].attributes"


def test_the_digest_is_the_documented_json_of_the_event() -> None:
    attributes = {"text": "fr33 c0ins ✓", "n": 1e16, "urls": ["https://x.example/ü"], "nested": {"b": 1, "a": None}}
    new = check_event(_event(**attributes), index=0, now=NOW, may_submit=lambda _: True)
    attributes_json = json.dumps(attributes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    content = json.dumps(
        ["content.posted", "EU", sorted({"account": "u-é", "content": 'c-"1"'}.items()), NOW.isoformat()],
        separators=(",", ":"),
    )
    assert new.attributes_json == attributes_json
    assert new.digest == hashlib.sha256(f"{content}|{attributes_json}".encode()).hexdigest()


_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(['"', "\\", "\n", "\x00", "\x7f", "\u2028", "é"]))
_VALUES = st.one_of(
    _TEXT,
    st.booleans(),
    st.none(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(_TEXT, max_size=4),
    st.lists(st.integers(), max_size=2),  # not a list of strings: the encoder's walk
    st.dictionaries(_TEXT, st.integers(), max_size=2),  # nested: the encoder's walk
)


@settings(max_examples=400, deadline=None)
@given(attributes=st.dictionaries(_TEXT, _VALUES, max_size=6))
def test_attributes_text_is_the_encoders_text_or_its_error(attributes: dict[str, object]) -> None:
    expected: str | type[Exception]
    try:
        expected = _ATTRIBUTES_JSON.encode(attributes)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            attributes_text(attributes)
    else:
        assert attributes_text(attributes) == expected


@settings(max_examples=300, deadline=None)
@given(
    entities=st.dictionaries(st.sampled_from(["account", "content", "ad"]), _TEXT, min_size=1),
    at=st.datetimes(timezones=st.timezones()),
    event_type=st.sampled_from(["content.posted", "message.sent"]),
)
def test_the_digest_is_the_compact_encoders(entities: dict[str, str], at: datetime, event_type: str) -> None:
    event = Event(event_type, "EU", MappingProxyType(entities), MappingProxyType({}), at, "k")
    content = _COMPACT_JSON.encode([event_type, "EU", sorted(entities.items()), at.isoformat()])
    assert digest(event, "{}") == hashlib.sha256(f"{content}|{{}}".encode()).hexdigest()


def test_a_batch_of_events_gets_distinct_version_4_ids() -> None:
    ids = _event_ids(500)
    assert len(set(ids)) == 500
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
