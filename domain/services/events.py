"""Platform events in: what happens on the platform (posts, sign-ups, logins...), checked and appended to the event
log for the enforcement rules.

Each event names its type (one of ``EVENT_TYPES``), its data region, the entities it concerns by the platform's
own ids (``{"account": "u-17", "content": "p-9"}``), its attributes (JSON, typed per event type), when it happened
and an idempotency key. A batch holds up to ``BATCH_MAX`` events; each is checked on its own (a bad one is a typed
error at its index and the others go on), and a key re-sent in a region is accepted once: the retry answers the
first event (``duplicate``), the same key with other content is ``IDEMPOTENCY_KEY_REUSED``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType, MemberDescriptorType
from typing import Final, Protocol

from domain import limits
from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.rules.catalogue import AttrType, EventType
from domain.rules.event import Event

BATCH_MAX: Final = 1_000
ATTRIBUTES_MAX_BYTES: Final = 16_384
ENTITY_ID_MAX: Final = 200
FUTURE_SKEW: Final = timedelta(hours=1)
"""How far ahead of the server's clock an event may claim to have happened (clock skew)."""
PAST_MAX: Final = timedelta(days=366)
"""The oldest event accepted: older ones would only land in partitions retention is about to drop."""

_S, _N, _B, _L = AttrType.STRING, AttrType.NUMBER, AttrType.BOOL, AttrType.STRING_LIST
_CONTENT = {"text": _S, "title": _S, "url": _S, "urls": _L, "language": _S}
_ACCOUNT = {"handle": _S, "display_name": _S, "bio": _S, "email_domain": _S, "ip": _S, "device": _S, "country": _S}


def _type(name: str, entities: set[str], attributes: Mapping[str, AttrType]) -> tuple[str, EventType]:
    return name, EventType(name, frozenset(entities), MappingProxyType(dict(attributes)))


EVENT_TYPES: Final[Mapping[str, EventType]] = MappingProxyType(
    dict(
        [
            _type("content.posted", {"content", "account"}, _CONTENT),
            _type("content.edited", {"content", "account"}, _CONTENT),
            _type("account.created", {"account"}, _ACCOUNT),
            _type("account.changed", {"account"}, {**_ACCOUNT, "changed": _L}),
            _type("profile.changed", {"account"}, {**_ACCOUNT, "changed": _L}),
            _type("ad.submitted", {"ad", "account"}, {"headline": _S, "body": _S, "landing_url": _S, "urls": _L}),
            _type("message.sent", {"account"}, {"text": _S, "urls": _L, "recipient": _S, "recipients": _N}),
            _type("account.login", {"account"}, {"ip": _S, "device": _S, "country": _S, "success": _B}),
        ]
    )
)
"""The event types platforms send, the entities each carries and its typed attributes (the rules' catalogue).
Attributes not declared here are stored (backtests may want them) but no rule can read them."""

ENTITY_KINDS: Final = frozenset({"account", "content", "ad"})

# One encoder each, made once: ``json.dumps`` with options builds a new encoder per call, a third of the time
# of a small event's checks. The output is ``json.dumps``' with the same options (digests stored before match).
_ATTRIBUTES_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_COMPACT_JSON: Final = json.JSONEncoder(separators=(",", ":"))
# The encoders' own string escapes (C functions), for the texts below built without an encoder's generic walk.
_ESCAPE: Final[Callable[[str], str]] = json.encoder.encode_basestring
_ESCAPE_ASCII: Final[Callable[[str], str]] = json.encoder.encode_basestring_ascii


@dataclass(frozen=True, slots=True)
class SubmitEvent:
    type: str
    region: Region
    entities: Mapping[str, str]
    attributes: Mapping[str, object]
    occurred_at: datetime
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event in the log: ``duplicate`` when its key had been accepted before (nothing new was written)."""

    event_id: uuid.UUID
    event: Event
    duplicate: bool


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A checked event ready to append: its id, content digest (for key reuse) and attributes as JSON text."""

    id: uuid.UUID
    event: Event
    digest: str
    attributes_json: str


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[object, object], None], ...] | None:
    """The setters of ``cls``' slots ``names`` when ``cls`` is a dataclass whose fields are exactly those, in that
    order, each kept in a slot, with no ``__post_init__`` (what its generated ``__init__`` does is then setting
    them); None otherwise: the maker below calls ``cls`` itself."""
    fields = tuple(f.name for f in dataclasses.fields(cls))
    slots = [cls.__dict__.get(name) for name in names]
    if fields != names or hasattr(cls, "__post_init__") or any(type(s) is not MemberDescriptorType for s in slots):
        return None
    return tuple(s.__set__ for s in slots)  # type: ignore[union-attr]


_EVENT_SLOTS = _slot_setters(
    Event, ("type", "region", "entities", "attributes", "occurred_at", "idempotency_key", "signals")
)
_NEW_EVENT_SLOTS = _slot_setters(NewEvent, ("id", "event", "digest", "attributes_json"))
_ACCEPTED_SLOTS = _slot_setters(Accepted, ("event_id", "event", "duplicate"))
_SUBMIT_SLOTS = _slot_setters(
    SubmitEvent, ("type", "region", "entities", "attributes", "occurred_at", "idempotency_key")
)


def make_submit_event(
    type: str, region: Region, entities: Mapping[str, str], attributes: Mapping[str, object], at: datetime, key: str
) -> SubmitEvent:
    """``SubmitEvent(type, region, entities, attributes, at, key)``, made by setting its slots (see ``make_event``):
    for the commands of a batch (``submitEvents``, ``vigil consume``)."""
    if _SUBMIT_SLOTS is None:
        return SubmitEvent(type, region, entities, attributes, at, key)
    made: SubmitEvent = _new_object(SubmitEvent)
    set_type, set_region, set_entities, set_attributes, set_at, set_key = _SUBMIT_SLOTS
    set_type(made, type)
    set_region(made, region)
    set_entities(made, entities)
    set_attributes(made, attributes)
    set_at(made, at)
    set_key(made, key)
    return made


def make_event(
    type: str, region: str, entities: Mapping[str, str], attributes: Mapping[str, object], at: datetime, key: str
) -> Event:
    """``Event(type, region, entities, attributes, at, key)`` (no signals), the same object made by setting its
    slots: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` by name, twice the time.
    The makers here are for the thousand objects of a batch; ``tests/unit/domain/test_platform_event_checks.py``
    holds each to its class' constructor."""
    if _EVENT_SLOTS is None:
        return Event(type, region, entities, attributes, at, key)
    made: Event = _new_object(Event)
    set_type, set_region, set_entities, set_attributes, set_at, set_key, set_signals = _EVENT_SLOTS
    set_type(made, type)
    set_region(made, region)
    set_entities(made, entities)
    set_attributes(made, attributes)
    set_at(made, at)
    set_key(made, key)
    set_signals(made, {})  # the field's default_factory
    return made


def make_new_event(event_id: uuid.UUID, event: Event, digest: str, attributes_json: str) -> NewEvent:
    """``NewEvent(event_id, event, digest, attributes_json)``, made by setting its slots (see ``make_event``)."""
    if _NEW_EVENT_SLOTS is None:
        return NewEvent(event_id, event, digest, attributes_json)
    made: NewEvent = _new_object(NewEvent)
    set_id, set_event, set_digest, set_json = _NEW_EVENT_SLOTS
    set_id(made, event_id)
    set_event(made, event)
    set_digest(made, digest)
    set_json(made, attributes_json)
    return made


def make_accepted(event_id: uuid.UUID, event: Event, duplicate: bool) -> Accepted:
    """``Accepted(event_id, event, duplicate)``, made by setting its slots (see ``make_event``)."""
    if _ACCEPTED_SLOTS is None:
        return Accepted(event_id, event, duplicate)
    made: Accepted = _new_object(Accepted)
    set_id, set_event, set_duplicate = _ACCEPTED_SLOTS
    set_id(made, event_id)
    set_event(made, event)
    set_duplicate(made, duplicate)
    return made


class EventLog(Protocol):
    """Where accepted events go (``persistence.events.PostgresEventLog``)."""

    async def append(self, events: Sequence[NewEvent], source_id: str, now: datetime) -> list[Accepted | None]:
        """Append in one transaction with its audit record; per event, in order: accepted (new, or a duplicate of
        the same content) or None (the key was first used for other content)."""
        ...


def check_event(
    cmd: SubmitEvent,
    *,
    index: int,
    now: datetime,
    may_submit: Callable[[Region], bool],
    event_id: uuid.UUID | None = None,
) -> NewEvent:
    """The event checked (``DomainError`` naming ``events[index].<field>`` otherwise), with ``event_id`` (a new
    random id by default). The checks of a valid event run inline (the error paths, and the field names they
    report, only when one fails)."""
    if not may_submit(cmd.region):
        raise DomainError.forbidden(f"you may not send events in region {cmd.region.value}", f"events[{index}].region")
    event_type = EVENT_TYPES.get(cmd.type)
    if event_type is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise DomainError.invalid_input(
            f"unknown event type {cmd.type[:64]!r}; expected one of {known}", f"events[{index}].type"
        )
    key = cmd.idempotency_key
    if not key.strip() or len(key) > limits.IDEMPOTENCY_KEY_MAX:  # limits.text's checks: it raises their error
        limits.text(key, field=f"events[{index}].idempotencyKey", max_len=limits.IDEMPOTENCY_KEY_MAX)
    entities = cmd.entities
    for kind, entity_id in entities.items():
        if kind not in ENTITY_KINDS or not entity_id.strip() or len(entity_id) > ENTITY_ID_MAX:
            _check_entities(entities, event_type, f"events[{index}].entities")  # raises the error
    if not event_type.entities <= entities.keys():
        _check_entities(entities, event_type, f"events[{index}].entities")  # raises the error
    attributes = cmd.attributes
    for name, declared in event_type.attributes.items():
        if name in attributes and not _is(attributes[name], declared):
            raise DomainError.invalid_input(f"{name} must be a {declared.value}", f"events[{index}].attributes.{name}")
    attributes_json = _attributes_json(attributes, f"events[{index}].attributes")
    occurred = cmd.occurred_at
    if occurred.tzinfo is None or occurred.utcoffset() is None:
        raise DomainError.invalid_input("occurredAt needs a time zone", f"events[{index}].occurredAt")
    if occurred > now + FUTURE_SKEW or occurred < now - PAST_MAX:
        raise DomainError.invalid_input(
            "occurredAt must be within the last 366 days and at most an hour ahead", f"events[{index}].occurredAt"
        )
    event = make_event(
        cmd.type,
        cmd.region.value,
        MappingProxyType(dict(entities)),
        MappingProxyType(dict(attributes)),
        occurred,
        key,
    )
    return make_new_event(event_id or uuid.uuid4(), event, digest(event, attributes_json), attributes_json)


def _check_entities(entities: Mapping[str, str], event_type: EventType, field: str) -> None:
    for kind, entity_id in entities.items():
        if kind not in ENTITY_KINDS:
            raise DomainError.invalid_input(f"unknown entity kind {kind[:32]!r}", field)
        limits.text(entity_id, field=f"{field}.{kind}", max_len=ENTITY_ID_MAX)
    missing = sorted(event_type.entities - entities.keys())
    if missing:
        raise DomainError.invalid_input(f"a {event_type.name} event names its {', '.join(missing)}", field)


def _check_attributes(attributes: Mapping[str, object], event_type: EventType, field: str) -> str:
    for name, declared in event_type.attributes.items():
        if name in attributes and not _is(attributes[name], declared):
            raise DomainError.invalid_input(f"{name} must be a {declared.value}", f"{field}.{name}")
    return _attributes_json(attributes, field)


def _attributes_json(attributes: Mapping[str, object], field: str) -> str:
    """The attributes' JSON text, checked: finite numbers, at most ``ATTRIBUTES_MAX_BYTES`` of UTF-8, no NUL."""
    try:
        text = attributes_text(attributes)
    except (TypeError, ValueError):  # NaN or infinity (a NATS message may carry them), or not JSON at all
        raise DomainError.invalid_input("attributes must be JSON (no NaN or infinity)", field) from None
    # An ASCII text's length is its size in UTF-8; any other is encoded (which raises on a lone surrogate, as ever).
    if (len(text) if text.isascii() else len(text.encode())) > ATTRIBUTES_MAX_BYTES:
        raise DomainError.invalid_input(f"attributes must be at most {ATTRIBUTES_MAX_BYTES} bytes of JSON", field)
    if "\x00" in text or "\\u0000" in text:
        raise DomainError.invalid_input("attributes must not contain NUL characters", field)
    return text


def _is(value: object, declared: AttrType) -> bool:
    if declared is AttrType.STRING:
        return isinstance(value, str)
    if declared is AttrType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if declared is AttrType.BOOL:
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def attributes_text(attributes: Mapping[str, object]) -> str:
    """``_ATTRIBUTES_JSON.encode(attributes)``, the same text: built directly for what events carry (a flat object
    of strings, numbers, booleans, nulls and lists of strings), and by the encoder for anything else (nesting,
    subclasses, NaN: the encoder's own answer or error)."""
    if type(attributes) is not dict:
        return _ATTRIBUTES_JSON.encode(attributes)
    parts = []
    for key in sorted(attributes):
        if type(key) is not str:
            return _ATTRIBUTES_JSON.encode(attributes)
        value = attributes[key]
        kind = type(value)
        if kind is str:
            text = _ESCAPE(value)
        elif kind is bool:
            text = "true" if value else "false"
        elif kind is int:
            text = int.__repr__(value)
        elif kind is float and math.isfinite(value):
            text = float.__repr__(value)
        elif value is None:
            text = "null"
        elif kind is list and all(type(v) is str for v in value):
            text = "[" + ",".join([_ESCAPE(v) for v in value]) + "]"
        else:
            return _ATTRIBUTES_JSON.encode(attributes)
        parts.append(_ESCAPE(key) + ":" + text)
    return "{" + ",".join(parts) + "}"


def digest(event: Event, attributes_json: str) -> str:
    """What a re-sent key must match: type, region, entities, attributes and time. The content is
    ``_COMPACT_JSON.encode([type, region, sorted(entities.items()), occurred_at.isoformat()])`` (digests stored before
    match), built from the encoder's own string escape: every part is a string (the escaped opening of the catalogue's
    types in each region and of its entity kinds made once)."""
    head = _DIGEST_HEADS.get((event.type, event.region))
    if head is None:
        head = f"[{_ESCAPE_ASCII(event.type)},{_ESCAPE_ASCII(event.region)},["
    pairs = event.entities.items()
    entities = ",".join(
        [
            (_KIND_HEADS.get(k) or "[" + _ESCAPE_ASCII(k) + ",") + _ESCAPE_ASCII(v) + "]"
            for k, v in (sorted(pairs) if len(pairs) > 1 else pairs)
        ]
    )
    content = head + entities + "]," + _ESCAPE_ASCII(event.occurred_at.isoformat()) + "]|" + attributes_json
    return hashlib.sha256(content.encode()).hexdigest()


_DIGEST_HEADS: Final[Mapping[tuple[str, str], str]] = {
    (name, region.value): f"[{_ESCAPE_ASCII(name)},{_ESCAPE_ASCII(region.value)},["
    for name in EVENT_TYPES
    for region in Region
}
_KIND_HEADS: Final[Mapping[str, str]] = {kind: "[" + _ESCAPE_ASCII(kind) + "," for kind in ENTITY_KINDS}

_UUID_BY_INT: Final = {"int", "is_safe"} <= set(getattr(uuid.UUID, "__slots__", ()))
"""Whether ``uuid.UUID`` keeps its value in the ``int`` and ``is_safe`` slots (CPython's uuid module): then an id is
made by filling them, the object ``UUID(int=...)`` makes without its checks (a fifth of the time). Otherwise
``_event_ids`` makes them with ``UUID(bytes=..., version=4)``."""
_new_object = object.__new__
_set_slot = object.__setattr__
_VERSION_4_CLEAR: Final = int.from_bytes(bytes([0xFF] * 6 + [0x0F, 0xFF, 0x3F] + [0xFF] * 7))
_VERSION_4_SET: Final = int.from_bytes(bytes([0] * 6 + [0x40, 0, 0x80] + [0] * 7))


def _event_ids(count: int) -> list[uuid.UUID]:
    """``count`` random (version 4) ids from one read of the system's random source, as ``uuid.uuid4`` makes each."""
    raw = os.urandom(16 * count)
    return _ids_by_int(raw) if _UUID_BY_INT else _ids_by_init(raw)


def _ids_by_init(raw: bytes) -> list[uuid.UUID]:
    """Version 4 ids of each 16 bytes of ``raw``, made by ``uuid.UUID``'s constructor."""
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, len(raw), 16)]


def _ids_by_int(raw: bytes) -> list[uuid.UUID]:
    """``_ids_by_init(raw)``, the same objects, made by filling their slots (see ``_UUID_BY_INT``)."""
    cls, unknown, from_bytes = uuid.UUID, uuid.SafeUUID.unknown, int.from_bytes
    ids = []
    for i in range(0, len(raw), 16):
        made = _new_object(cls)
        _set_slot(made, "int", (from_bytes(raw[i : i + 16]) & _VERSION_4_CLEAR) | _VERSION_4_SET)
        _set_slot(made, "is_safe", unknown)
        ids.append(made)
    return ids


async def submit_events(
    log: EventLog,
    commands: Sequence[SubmitEvent | DomainError],
    *,
    source_id: str,
    now: datetime,
    may_submit: Callable[[Region], bool],
) -> list[Accepted | DomainError]:
    """One result per command, in order: the valid ones appended together, the rest their typed error."""
    allowed: dict[Region, bool] = {}

    def may_submit_in(region: Region) -> bool:  # asked once per region of the batch, not once per event
        if region not in allowed:
            allowed[region] = may_submit(region)
        return allowed[region]

    checked: list[NewEvent | DomainError] = []
    ids = iter(_event_ids(len(commands)))
    for index, cmd in enumerate(commands):
        if isinstance(cmd, DomainError):
            checked.append(cmd)
            continue
        try:
            checked.append(check_event(cmd, index=index, now=now, may_submit=may_submit_in, event_id=next(ids)))
        except DomainError as exc:
            checked.append(exc)
    new = [c for c in checked if isinstance(c, NewEvent)]
    appended = iter(await log.append(new, source_id, now) if new else [])
    results: list[Accepted | DomainError] = []
    for index, item in enumerate(checked):
        if isinstance(item, DomainError):
            results.append(item)
        else:
            accepted = next(appended)
            results.append(key_reused(index) if accepted is None else accepted)
    return results


def key_reused(index: int) -> DomainError:
    return DomainError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "this idempotency key was first used for a different event",
        f"events[{index}].idempotencyKey",
    )
