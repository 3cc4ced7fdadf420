"""A consumed message is decoded as a request body is (``json_values.decode``): the same values (an integer past 64
bits keeps its digits), and refused past the same depth, with a typed error instead of an exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from api.graphql.limits.json_values import decode
from api.services.events_consumer import MAX_DEPTH, parse_message
from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.services.events import SubmitEvent

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _body(**attributes: object) -> dict[str, object]:
    return {"type": "message.sent", "region": "EU", "entities": {"account": "u-1"}, "attributes": attributes,
            "occurredAt": AT.isoformat(), "idempotencyKey": "k-1"}  # fmt: skip


def _nested(levels: int) -> str:
    """A message whose attributes hold ``levels - 2`` nested lists around a number: ``levels`` deep in all."""
    inner = "[" * (levels - 2) + "1" + "]" * (levels - 2)
    return json.dumps(_body()).replace('"attributes": {}', f'"attributes": {{"deep": {inner}}}')


def test_an_integer_past_64_bits_keeps_its_digits() -> None:
    command = parse_message(json.dumps(_body(recipients=123456789012345678901)).encode(), None, 0)
    assert isinstance(command, SubmitEvent)
    assert command.attributes["recipients"] == 123456789012345678901
    assert type(command.attributes["recipients"]) is int


def test_a_message_is_the_command_it_describes() -> None:
    command = parse_message(json.dumps(_body(text="hi", urls=["https://a.example"])).encode(), None, 0)
    assert command == SubmitEvent("message.sent", Region.EU, {"account": "u-1"},
                                  {"text": "hi", "urls": ["https://a.example"]}, AT, "k-1")  # fmt: skip


def test_the_header_names_the_key_when_the_body_does_not() -> None:
    body = _body()
    del body["idempotencyKey"]
    command = parse_message(json.dumps(body).encode(), {"Nats-Msg-Id": "from-header"}, 0)
    assert isinstance(command, SubmitEvent)
    assert command.idempotency_key == "from-header"


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 20])
def test_a_message_is_refused_past_the_depth_a_request_body_is_refused_at(levels: int) -> None:
    text = _nested(levels)
    assert decode(text)[1] == levels
    outcome = parse_message(text.encode(), None, 4)
    if levels > MAX_DEPTH:
        assert isinstance(outcome, DomainError)
        assert (outcome.code, outcome.field) == (ErrorCode.INVALID_INPUT, "events[4]")
        assert str(MAX_DEPTH) in outcome.message
    else:
        assert isinstance(outcome, SubmitEvent)


def test_the_depth_limit_is_the_consumers() -> None:
    outcome = parse_message(_nested(5).encode(), None, 0, max_depth=4)
    assert isinstance(outcome, DomainError)
    assert "deeper than 4 levels" in outcome.message


@pytest.mark.parametrize("data", [b"[" * 100_000, b'{"a": ' * 50_000])
def test_nesting_past_what_the_decoder_can_follow_is_refused_not_raised(data: bytes) -> None:
    outcome = parse_message(data, None, 2)
    assert isinstance(outcome, DomainError)
    assert (outcome.code, outcome.field) == (ErrorCode.INVALID_INPUT, "events[2]")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (b"not json", "events[0]", "not JSON"),
        (b"\xff\xfe\x00", "events[0]", "not JSON"),
        (b"[1, 2]", "events[0]", "not a JSON object"),
        (json.dumps({**_body(), "region": "MARS"}).encode(), "events[0].region", "region"),
        (json.dumps({**_body(), "region": ["EU"]}).encode(), "events[0].region", "region"),
        (json.dumps({**_body(), "entities": {"account": 7}}).encode(), "events[0].entities", "entities"),
        (json.dumps({**_body(), "attributes": []}).encode(), "events[0].attributes", "attributes"),
        (json.dumps({**_body(), "occurredAt": "yesterday"}).encode(), "events[0].occurredAt", "occurredAt"),
        (json.dumps({**_body(), "type": 3}).encode(), "events[0]", "strings"),
    ],
)
def test_bad_messages_are_typed_errors(data: bytes, field: str, message: str) -> None:
    outcome = parse_message(data, None, 0)
    assert isinstance(outcome, DomainError)
    assert (outcome.code, outcome.field) == (ErrorCode.INVALID_INPUT, field)
    assert message in outcome.message


def test_a_message_in_utf_16_is_read_as_json_reads_it() -> None:
    command = parse_message(json.dumps(_body()).encode("utf-16"), None, 0)
    assert isinstance(command, SubmitEvent)
    assert command.idempotency_key == "k-1"


def test_what_orjson_refuses_is_read_as_json_reads_it() -> None:
    command = parse_message(json.dumps(_body(score=float("nan"))).encode(), None, 0)  # NaN: refused when checked
    assert isinstance(command, SubmitEvent)
    assert command.attributes["score"] != command.attributes["score"]
