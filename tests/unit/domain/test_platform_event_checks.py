"""An event's checks: attributes that are not JSON are a typed error at their index, and the digest a re-sent key
is compared with stays what it was (digests stored earlier must still match)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import pickle
import uuid
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain import limits
from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.rules.event import Event
from domain.services.events import (
    _ACCEPTED_SLOTS,
    _ATTRIBUTES_JSON,
    _COMPACT_JSON,
    _EVENT_SLOTS,
    _NEW_EVENT_SLOTS,
    _SUBMIT_SLOTS,
    _UUID_BY_INT,
    ATTRIBUTES_MAX_BYTES,
    ENTITY_ID_MAX,
    ENTITY_KINDS,
    EVENT_TYPES,
    FUTURE_SKEW,
    PAST_MAX,
    Accepted,
    NewEvent,
    SubmitEvent,
    _event_ids,
    _ids_by_init,
    _ids_by_int,
    _is,
    _slot_setters,
    attributes_text,
    check_event,
    digest,
    make_accepted,
    make_event,
    make_new_event,
    make_submit_event,
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


@settings(max_examples=200, deadline=None)
@given(
    raw=st.binary(min_size=16, max_size=16).flatmap(
        lambda b: st.lists(st.binary(min_size=16, max_size=16)).map(lambda rest: b + b"".join(rest))
    )
)
def test_ids_filled_by_their_slots_are_the_constructors(raw: bytes) -> None:
    made, expected = _ids_by_int(raw), _ids_by_init(raw)
    assert len(made) == len(expected) == len(raw) // 16
    for a, b in zip(made, expected, strict=True):
        assert type(a) is type(b) is uuid.UUID
        assert (a.int, a.is_safe, a.version, a.variant, a.bytes) == (b.int, b.is_safe, b.version, b.variant, b.bytes)
        assert (str(a), repr(a), hash(a)) == (str(b), repr(b), hash(b))
        assert a == b
        assert pickle.loads(pickle.dumps(a)) == b
        assert copy.deepcopy(a) == b
    assert _UUID_BY_INT  # CPython's uuid: the fast path is the one that runs


def _reference_check(cmd: SubmitEvent, *, index: int, now: datetime, event_id: uuid.UUID) -> NewEvent:
    """``check_event`` as it was before its checks were inlined (every check through its helper, every field name
    built first): the fast path must answer what it answered, error for error."""
    at = f"events[{index}]."
    event_type = EVENT_TYPES.get(cmd.type)
    if event_type is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise DomainError.invalid_input(f"unknown event type {cmd.type[:64]!r}; expected one of {known}", f"{at}type")
    key = limits.text(cmd.idempotency_key, field=f"{at}idempotencyKey", max_len=limits.IDEMPOTENCY_KEY_MAX)
    for kind, entity_id in cmd.entities.items():
        if kind not in ENTITY_KINDS:
            raise DomainError.invalid_input(f"unknown entity kind {kind[:32]!r}", f"{at}entities")
        limits.text(entity_id, field=f"{at}entities.{kind}", max_len=ENTITY_ID_MAX)
    missing = sorted(event_type.entities - cmd.entities.keys())
    if missing:
        raise DomainError.invalid_input(f"a {event_type.name} event names its {', '.join(missing)}", f"{at}entities")
    for name, declared in event_type.attributes.items():
        if name in cmd.attributes and not _is(cmd.attributes[name], declared):
            raise DomainError.invalid_input(f"{name} must be a {declared.value}", f"{at}attributes.{name}")
    try:
        text = _ATTRIBUTES_JSON.encode(cmd.attributes)
    except (TypeError, ValueError):
        raise DomainError.invalid_input("attributes must be JSON (no NaN or infinity)", f"{at}attributes") from None
    if len(text.encode()) > ATTRIBUTES_MAX_BYTES:
        raise DomainError.invalid_input(
            f"attributes must be at most {ATTRIBUTES_MAX_BYTES} bytes of JSON", f"{at}attributes"
        )
    if "\x00" in text or "\\u0000" in text:
        raise DomainError.invalid_input("attributes must not contain NUL characters", f"{at}attributes")
    occurred = cmd.occurred_at
    if occurred.tzinfo is None or occurred.utcoffset() is None:
        raise DomainError.invalid_input("occurredAt needs a time zone", f"{at}occurredAt")
    if occurred > now + FUTURE_SKEW or occurred < now - PAST_MAX:
        raise DomainError.invalid_input(
            "occurredAt must be within the last 366 days and at most an hour ahead", f"{at}occurredAt"
        )
    event = Event(
        cmd.type,
        cmd.region.value,
        MappingProxyType(dict(cmd.entities)),
        MappingProxyType(dict(cmd.attributes)),
        occurred,
        key,
    )
    content = _COMPACT_JSON.encode([cmd.type, cmd.region.value, sorted(cmd.entities.items()), occurred.isoformat()])
    return NewEvent(event_id, event, hashlib.sha256(f"{content}|{text}".encode()).hexdigest(), text)


_IDS = st.sampled_from(["", "  ", "u-1", "x" * ENTITY_ID_MAX, "x" * (ENTITY_ID_MAX + 1), 'é\u2028"', "\x00"]) | _TEXT
_KEYS = st.sampled_from(["", " \t", "k", "k" * limits.IDEMPOTENCY_KEY_MAX, "k" * (limits.IDEMPOTENCY_KEY_MAX + 1)])
_ATTRIBUTE_NAMES = st.sampled_from(["text", "urls", "recipients", "success", "ip", "other"]) | _TEXT
_BIG = st.sampled_from(["a" * (ATTRIBUTES_MAX_BYTES - 20), "é" * (ATTRIBUTES_MAX_BYTES // 2 - 10), "\U0001f600" * 4090])


@settings(max_examples=600, deadline=None)
@given(
    event_type=st.sampled_from([*EVENT_TYPES, "teleported"]),
    region=st.sampled_from(list(Region)),
    entities=st.just({"account": "u-1", "content": "c-é", "ad": "a-1"})
    | st.dictionaries(st.sampled_from(["account", "content", "ad", "user"]), _IDS, max_size=3),
    attributes=st.dictionaries(_ATTRIBUTE_NAMES, _VALUES | _BIG, max_size=4),
    key=st.just("k-1") | _KEYS | _TEXT,
    offset=st.sampled_from([timedelta(0), timedelta(hours=2), -timedelta(days=367), -timedelta(days=3)]),
    naive=st.booleans(),
    index=st.integers(min_value=0, max_value=999),
)
def test_check_event_answers_as_its_helpers_did(
    event_type: str,
    region: Region,
    entities: dict[str, str],
    attributes: dict[str, object],
    key: str,
    offset: timedelta,
    naive: bool,
    index: int,
) -> None:
    at = NOW + offset
    cmd = SubmitEvent(event_type, region, entities, attributes, at.replace(tzinfo=None) if naive else at, key)
    event_id = uuid.uuid4()
    expected: NewEvent | DomainError
    try:
        expected = _reference_check(cmd, index=index, now=NOW, event_id=event_id)
    except DomainError as exc:
        expected = exc
    try:
        got: NewEvent | DomainError = check_event(
            cmd, index=index, now=NOW, may_submit=lambda _: True, event_id=event_id
        )
    except DomainError as exc:
        got = exc
    event(f"accepted: {not isinstance(expected, DomainError)}")
    if isinstance(expected, DomainError):
        assert isinstance(got, DomainError), got
        assert (got.code, got.message, got.field) == (expected.code, expected.message, expected.field)
    else:
        assert got == expected


@settings(max_examples=200, deadline=None)
@given(event_type=_TEXT, region=_TEXT, entities=st.dictionaries(_TEXT, _TEXT, max_size=3))
def test_the_digest_of_any_type_region_and_kinds_is_the_compact_encoders(
    event_type: str, region: str, entities: dict[str, str]
) -> None:
    event = Event(event_type, region, MappingProxyType(entities), MappingProxyType({}), NOW, "k")
    content = _COMPACT_JSON.encode([event_type, region, sorted(entities.items()), NOW.isoformat()])
    assert digest(event, "{}") == hashlib.sha256(f"{content}|{{}}".encode()).hexdigest()


def _all_slots(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    texts=st.lists(_TEXT, min_size=4, max_size=4),
    entities=st.dictionaries(_TEXT, _TEXT, max_size=3),
    attributes=st.dictionaries(_TEXT, _VALUES, max_size=3),
    at=st.datetimes(timezones=st.timezones()),
    duplicate=st.booleans(),
)
def test_the_slot_makers_make_what_the_constructors_make(
    texts: list[str],
    entities: dict[str, str],
    attributes: dict[str, object],
    at: datetime,
    duplicate: bool,
) -> None:
    event_type, region, key, text = texts
    made = make_event(event_type, region, entities, attributes, at, key)
    built = Event(event_type, region, entities, attributes, at, key)
    assert type(made) is Event
    assert made == built
    assert _all_slots(made) == _all_slots(built)
    assert made.signals is not make_event(event_type, region, entities, attributes, at, key).signals  # a new dict each
    assert made.entities is entities
    assert made.attributes is attributes
    assert hash(made.type) == hash(built.type)
    event_id = uuid.uuid4()
    new, new_built = make_new_event(event_id, made, text, key), NewEvent(event_id, built, text, key)
    assert type(new) is NewEvent
    assert new == new_built
    assert _all_slots(new) == _all_slots(new_built)
    accepted, accepted_built = make_accepted(event_id, made, duplicate), Accepted(event_id, built, duplicate)
    assert type(accepted) is Accepted
    assert accepted == accepted_built
    assert _all_slots(accepted) == _all_slots(accepted_built)
    region = Region.EU
    command = make_submit_event(event_type, region, entities, attributes, at, key)
    command_built = SubmitEvent(event_type, region, entities, attributes, at, key)
    assert type(command) is SubmitEvent
    assert command == command_built
    assert _all_slots(command) == _all_slots(command_built)
    for obj in (made, new, accepted, command):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.__setattr__(dataclasses.fields(obj)[0].name, None)
    assert None not in (
        _EVENT_SLOTS,
        _NEW_EVENT_SLOTS,
        _ACCEPTED_SLOTS,
        _SUBMIT_SLOTS,
    )  # the fast path is the one that runs


def test_a_class_whose_fields_are_not_its_slots_is_made_by_its_constructor() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise ValueError

    assert _slot_setters(Plain, ("a",)) is None
    assert _slot_setters(Checked, ("a",)) is None
    assert _slot_setters(Event, ("type", "region")) is None  # not all its fields
    assert _slot_setters(Accepted, ("event_id", "event", "duplicate")) is not None
