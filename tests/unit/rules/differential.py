"""The harness holding generated conditions (``codegen``) to the reference closures (``compiler._Builder``): both
are bound from the same rules by one binder and run, rule after rule, on one spied context per event each. Every
read is logged in order: ``Context`` methods, the event's mappings, the fact source, and the truth tests of the
odd values some facts return, so a difference in results, errors, order, short-circuits or caching shows.

Events and facts are drawn from option tables: well-typed values, absent and ``None`` attributes, attributes of
the wrong type and of subclasses, missing entities, missing facts, a fact source that raises, and facts whose
values are of the wrong type or odd objects (comparisons returning values with a logged ``__bool__``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.rules.catalogue import ListKind
from domain.rules.compiler import CompiledRule, bind_condition, reference_condition
from domain.rules.context import Context, Fn
from domain.rules.engine import DEFAULT_REGEX_MEMORY, _Binder
from domain.rules.event import Event
from domain.rules.lists import ListIndex, ListSnapshot
from domain.rules.ports import CounterKey, EntityFacts
from tests.unit.rules.support import NOW

LOG: list[tuple[object, ...]] = []

LISTS = ListIndex(
    [
        ListSnapshot("spam", ListKind.KEYWORD, 1, ["free coins", "cheap pills"]),
        ListSnapshot("scam", ListKind.KEYWORD, 1, ["wire money"]),
        ListSnapshot("bad-domains", ListKind.DOMAIN, 1, ["evil.com"]),
        ListSnapshot("bad-urls", ListKind.URL, 1, ["good.org/bad"]),
    ]
)


class Spied(dict[str, Any]):
    """A mapping of the event that logs its reads."""

    def __init__(self, label: str, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self.label = label

    def get(self, key: str, default: Any = None) -> Any:
        LOG.append(("get", self.label, key))
        return super().get(key, default)

    def items(self) -> Any:
        LOG.append(("items", self.label))
        return super().items()


class Verdict:
    """What an odd fact's comparison returns: truthy or not by its text, each truth test logged."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __bool__(self) -> bool:
        LOG.append(("bool", self.text))
        return len(self.text) % 2 == 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verdict) and other.text == self.text

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"Verdict({self.text!r})"


class Odd:
    """A fact value of no expected type: comparisons answer ``Verdict``s."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _verdict(self, op: str, other: object) -> Verdict:
        return Verdict(f"{self.name} {op} {other!r}")

    def __eq__(self, other: object) -> Verdict:  # type: ignore[override]
        return self._verdict("==", other)

    def __ne__(self, other: object) -> Verdict:  # type: ignore[override]
        return self._verdict("!=", other)

    def __lt__(self, other: object) -> Verdict:
        return self._verdict("<", other)

    def __le__(self, other: object) -> Verdict:
        return self._verdict("<=", other)

    def __gt__(self, other: object) -> Verdict:
        return self._verdict(">", other)

    def __ge__(self, other: object) -> Verdict:
        return self._verdict(">=", other)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"Odd({self.name!r})"


class SubStr(str):
    __slots__ = ()


class SubList(list[str]):
    pass


class SpyContext(Context):
    __slots__ = ()

    def entity_id(self, kind: str) -> str:
        LOG.append(("entity_id", kind))
        return super().entity_id(kind)

    def entity(self, kind: str) -> EntityFacts:
        LOG.append(("entity", kind))
        return super().entity(kind)

    def signal(self, name: str) -> float:
        LOG.append(("signal", name))
        return super().signal(name)

    def entity_signal(self, kind: str, name: str) -> float:
        LOG.append(("entity_signal", kind, name))
        return super().entity_signal(kind, name)

    def counter(self, source: str, kind: str, window_seconds: int) -> int:
        LOG.append(("counter", source, kind, window_seconds))
        return super().counter(source, kind, window_seconds)

    def normalised(self, key: str, value: Fn) -> str:
        LOG.append(("normalised", key))
        return super().normalised(key, value)

    def keyword_mask(self, key: str, value: Fn) -> int:
        LOG.append(("keyword_mask", key))
        return super().keyword_mask(key, value)

    def links(self, key: str, value: Fn) -> list[tuple[str, str]]:
        LOG.append(("links", key))
        return super().links(key, value)

    def regex_hits(self, group: int, value: Fn) -> list[int]:
        LOG.append(("regex_hits", group))
        return super().regex_hits(group, value)


class FactsDown(Exception):
    pass


@dataclass
class Facts:
    """A fact source answering from tables, logging every read; an exception in a table is raised."""

    entities: Mapping[str, EntityFacts | Exception | None]
    counters: Mapping[str, int | Exception]

    def entity(self, kind: str, entity_id: str) -> EntityFacts | None:
        LOG.append(("facts.entity", kind, entity_id))
        found = self.entities.get(kind)
        if isinstance(found, Exception):
            raise found
        return found

    def counter(self, key: CounterKey) -> int:
        LOG.append(("facts.counter", *key))
        found = self.counters.get(key.source, 0)
        if isinstance(found, Exception):
            raise found
        return found


ABSENT = object()
"""An attribute the event does not carry."""
NORMAL = EntityFacts(timedelta(days=2), 1, "ACTIVE", "EU", 3, frozenset({"spammer"}), {"toxicity": 0.4})
CONTENT = EntityFacts(timedelta(hours=5), 0, "VISIBLE", "US", 0, frozenset(), {"toxicity": 0.95, "spam": 0.2})
ODD = EntityFacts(timedelta(days=9), Odd("strikes"), Odd("status"), 5, Odd("decisions"), ["spammer"], {})  # type: ignore[arg-type]
WRONG = EntityFacts(5, "3", None, None, "3", None, {"toxicity": "high"})  # type: ignore[arg-type, dict-item]
OPTIONS: dict[str, Sequence[object]] = {
    "text": [
        "Get FR33 C0!NS at evil.com: good.org/bad", "hello world", "", "wire money via x.evil.com/a, https://good.org/bad/x",
        "ALL CAPS FREE COINS", "buy it now, dm me for t.me/abc", ABSENT, None, 5, SubStr("cheap pills"),
    ],
    "title": ["Big DEAL", "", "free coins", "evil.com", "ACTIVE", ABSENT, ["x"], SubStr("Big")],
    "tags": [["news", "tech"], ("x",), frozenset({"news"}), set(), SubList(["news"]), ABSENT, "news", None],
    "views": [1500, 2.5, 0, -1, ABSENT, True, "1000"],
    "nsfw": [False, True, ABSENT, 0],
    "spam": [ABSENT, 0.3, 1, "high"],
    "entities": [{"account": "a1", "content": "c1"}, {"account": "a1"}, {"content": "c1"}, {}],
    "signals": [{}, {"spam": 0.8}, {"toxicity": 0.1}],
    "account": [NORMAL, NORMAL, None, FactsDown("account facts down"), ODD, WRONG],
    "content": [CONTENT, CONTENT, None, ODD, WRONG],
    "reports": [6, 0, FactsDown("counters down")],
    "reporters": [2, 4],
    "region": ["EU", "US"],
}  # fmt: skip


@dataclass
class Case:
    event: Event
    facts: Facts


def case(choices: Mapping[str, Any]) -> Case:
    attributes = {name: choices[name] for name in ("text", "title", "tags", "views", "nsfw", "spam")}
    event = Event(
        "content.posted",
        choices["region"],
        Spied("entities", choices["entities"]),
        Spied("attributes", {k: v for k, v in attributes.items() if v is not ABSENT}),
        NOW,
        "key-1",
        Spied("signals", choices["signals"]),
    )
    facts = Facts(
        {"account": choices["account"], "content": choices["content"]},
        {"reports": choices["reports"], "reporters": choices["reporters"]},
    )
    return Case(event, facts)


def fixed_cases(count: int, seed: int = 5) -> list[Case]:
    rng = random.Random(seed)
    return [case({name: rng.choice(values) for name, values in OPTIONS.items()}) for _ in range(count)]


@dataclass
class Bound:
    reference: list[Fn]
    generated: list[Fn]
    regex_sets: list[Any]


def bind(rules: Iterable[CompiledRule], lists: ListIndex = LISTS) -> Bound:
    binder = _Binder(lists, DEFAULT_REGEX_MEMORY)
    rules = list(rules)
    reference = [reference_condition(rule, binder) for rule in rules]
    generated = [bind_condition(rule, binder) for rule in rules]
    return Bound(reference, generated, binder.regex_sets())


Run = tuple[list[tuple[object, ...]], list[tuple[object, ...]]]


def run(conditions: Sequence[Callable[[Context], object]], case: Case, lists: ListIndex, regex_sets: Any) -> Run:
    """(each condition's outcome, everything read) of the conditions in order on one context."""
    LOG.clear()
    context = SpyContext(case.event, case.facts, lists, regex_sets)
    outcomes: list[tuple[object, ...]] = []
    for condition in conditions:
        LOG.append(("condition",))
        try:
            value = condition(context)
        except Exception as error:
            outcomes.append(("raised", type(error), str(error)))
        else:
            outcomes.append(("returned", type(value), value))
    return outcomes, list(LOG)


def differences(bound: Bound, cases: Iterable[Case], lists: ListIndex = LISTS) -> list[tuple[Case, Run, Run]]:
    """The cases on which the generated conditions' outcomes or reads differ from the reference's."""
    found = []
    for each in cases:
        reference = run(bound.reference, each, lists, bound.regex_sets)
        generated = run(bound.generated, each, lists, bound.regex_sets)
        if reference != generated:
            found.append((each, reference, generated))
    return found
