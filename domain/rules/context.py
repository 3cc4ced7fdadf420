"""The per-event evaluation context the compiled closures read: the event, the prefetched facts, and caches shared
by every rule of the rule set for this event (a normalised field is normalised once, scanned once by the keyword
automaton, once by each regex set, and its links extracted once)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import re2

from domain.rules.event import Event
from domain.rules.lists import ListIndex, links
from domain.rules.normalise import normalise
from domain.rules.ports import CounterKey, EntityFacts, FactSource

Fn = Callable[["Context"], Any]

MAX_SCAN = 100_000
"""Characters of a field that normalisation, the keyword automaton, link extraction and RE2 sets read: the shared
scans are linear, and this bounds them (~10 ms) whatever the event carries."""


class RuleRuntimeError(Exception):
    """The event lacks what a rule reads; the rule fails for this event (``FailureCode.RUNTIME_ERROR``)."""


class Context:
    __slots__ = (
        "_counters",
        "_entities",
        "_keywords",
        "_links",
        "_normalised",
        "_regex",
        "_subject_signals",
        "event",
        "facts",
        "lists",
        "regex_sets",
    )

    def __init__(self, event: Event, facts: FactSource, lists: ListIndex, regex_sets: list[Any]) -> None:
        self.event = event
        self.facts = facts
        self.lists = lists
        self.regex_sets = regex_sets
        self._entities: dict[str, EntityFacts] = {}
        self._normalised: dict[str, str] = {}
        self._keywords: dict[str, int] = {}
        self._links: dict[str, list[tuple[str, str]]] = {}
        self._regex: dict[int, list[int]] = {}
        self._counters: dict[tuple[str, str, int], int] = {}
        self._subject_signals: Mapping[str, float] | None = None

    def entity_id(self, kind: str) -> str:
        entity_id = self.event.entities.get(kind)
        if entity_id is None:
            raise RuleRuntimeError(f"the event carries no {kind}")
        return entity_id

    def entity(self, kind: str) -> EntityFacts:
        facts = self._entities.get(kind)
        if facts is None:
            found = self.facts.entity(kind, self.entity_id(kind))
            if found is None:
                raise RuleRuntimeError(f"no facts about the event's {kind}")
            facts = self._entities[kind] = found
        return facts

    def signal(self, name: str) -> float:
        score = self.event.signals.get(name)
        if score is not None:
            return score
        carried = self.event.attributes.get(name)
        if type(carried) is float or type(carried) is int:
            return carried
        stored = self._subject_signals
        if stored is None:
            subject = self.event.subject
            facts = self.facts.entity(*subject) if subject is not None else None
            stored = self._subject_signals = facts.signals if facts is not None else {}
        return stored.get(name, 0.0)

    def entity_signal(self, kind: str, name: str) -> float:
        facts = self.facts.entity(kind, self.entity_id(kind))
        return facts.signals.get(name, 0.0) if facts is not None else 0.0

    def counter(self, source: str, kind: str, window_seconds: int) -> int:
        spec = (source, kind, window_seconds)
        value = self._counters.get(spec)
        if value is None:
            value = self._counters[spec] = self.facts.counter(
                CounterKey(source, kind, self.entity_id(kind), window_seconds)
            )
        return value

    def normalised(self, key: str, value: Fn) -> str:
        text = self._normalised.get(key)
        if text is None:
            text = self._normalised[key] = normalise(value(self)[:MAX_SCAN])
        return text

    def keyword_mask(self, key: str, value: Fn) -> int:
        mask = self._keywords.get(key)
        if mask is None:
            mask = self._keywords[key] = self.lists.keyword_mask(self.normalised(key, value))
        return mask

    def links(self, key: str, value: Fn) -> list[tuple[str, str]]:
        found = self._links.get(key)
        if found is None:
            found = self._links[key] = links(value(self)[:MAX_SCAN])
        return found

    def regex_hits(self, group: int, value: Fn) -> list[int]:
        hits = self._regex.get(group)
        if hits is None:
            regex_set: re2.Set = self.regex_sets[group]
            hits = self._regex[group] = regex_set.Match(value(self)[:MAX_SCAN]) or []
        return hits
