"""An event's checks: attributes that are not JSON are a typed error at their index, and the digest a re-sent key
is compared with stays what it was (digests stored earlier must still match)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.services.events import SubmitEvent, check_event

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
