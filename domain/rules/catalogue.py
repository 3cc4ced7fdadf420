"""What rule text may name, checked at definition time: event types and their attributes, entity kinds, named
lists (by kind), signals, counter sources, policies, regions, queues and enforcement actions.

The caller (the rules service) builds one ``Catalogue`` from its configuration and stored lists; the type checker
refuses any name not in it with a typed ``RuleDefinitionError``. ``queues`` may be None and ``enforcement_actions``
empty to accept any name (the caller then validates actions when it executes them: a rule set compiled for running
accepts any queue, so a queue gone since the rule was written fails that action, not the whole rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class AttrType(StrEnum):
    """Types of event attributes (and of language values; ``DURATION`` and ``BOOL`` are language-only too)."""

    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    STRING_LIST = "string_list"
    DURATION = "duration"


class ListKind(StrEnum):
    KEYWORD = "keyword"
    """Words or phrases, matched on normalised text at word boundaries by one automaton."""
    DOMAIN = "domain"
    """Host names, matched on the hosts found in text; an entry also matches its subdomains."""
    URL = "url"
    """URLs without scheme (``host/path``), matched on the URLs found in text; an entry also matches longer paths."""


class CounterKind(StrEnum):
    COUNT = "count"
    """``count(source, entity, window)``: how many events of the source's types hit the entity in the window."""
    DISTINCT = "distinct"
    """``distinct(source, entity, window)``: how many distinct values of ``member_attribute`` (or member entity)."""


@dataclass(frozen=True)
class CounterSource:
    """A named stream the counter stores keep per entity: each event of ``event_types`` that carries the counted
    entity is recorded (see ``engine.counter_records``). A DISTINCT source counts distinct values of
    ``member_attribute`` or, if it names an entity kind instead (``member_entity``), of that entity's id."""

    name: str
    kind: CounterKind
    event_types: frozenset[str]
    member_attribute: str | None = None
    member_entity: str | None = None


@dataclass(frozen=True)
class EventType:
    """An event type: the entity kinds every event of it carries, and its attributes' types."""

    name: str
    entities: frozenset[str]
    attributes: Mapping[str, AttrType] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    event_types: Mapping[str, EventType]
    lists: Mapping[str, ListKind] = field(default_factory=dict)
    signals: frozenset[str] = frozenset()
    counters: Mapping[str, CounterSource] = field(default_factory=dict)
    policies: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset({"US", "EU", "APAC", "ROW"})
    entity_kinds: frozenset[str] = frozenset({"account", "content", "ad"})
    queues: frozenset[str] | None = None
    """Queue names ``open_case`` may name (the rule's region's case queues); None accepts any name."""
    enforcement_actions: frozenset[str] = frozenset()
    """Action kinds ``decide`` may request (e.g. ``REMOVE_CONTENT``); empty accepts any upper-case name."""
