"""A small catalogue, rule text builder and event builder shared by the rules tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from hypothesis import HealthCheck

from domain.rules.catalogue import AttrType, Catalogue, CounterKind, CounterSource, EventType, ListKind
from domain.rules.compiler import CompiledRule, define_rule
from domain.rules.event import Event

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SLOW_MACHINE = [HealthCheck.too_slow, HealthCheck.filter_too_much]
"""Hypothesis health checks off: they time generation, and the test machine is shared."""

CATALOGUE = Catalogue(
    event_types={
        "content.posted": EventType(
            "content.posted",
            frozenset({"account", "content"}),
            {"text": AttrType.STRING, "title": AttrType.STRING, "tags": AttrType.STRING_LIST,
             "views": AttrType.NUMBER, "nsfw": AttrType.BOOL},
        ),
        "message.sent": EventType(
            "message.sent", frozenset({"account"}), {"text": AttrType.STRING, "views": AttrType.STRING}
        ),
        "report.filed": EventType(
            "report.filed", frozenset({"account", "content", "reporter"}), {"text": AttrType.STRING}
        ),
    },
    lists={"spam": ListKind.KEYWORD, "scam": ListKind.KEYWORD, "bad-domains": ListKind.DOMAIN,
           "bad-urls": ListKind.URL},
    signals=frozenset({"spam", "toxicity"}),
    counters={
        "reports": CounterSource("reports", CounterKind.COUNT, frozenset({"report.filed"})),
        "reporters": CounterSource(
            "reporters", CounterKind.DISTINCT, frozenset({"report.filed"}), member_entity="reporter"
        ),
    },
    policies=frozenset({"SPAM", "HATE_SPEECH"}),
    entity_kinds=frozenset({"account", "content", "ad", "reporter"}),
    queues=frozenset({"spam", "review"}),
    enforcement_actions=frozenset({"REMOVE_CONTENT", "SUSPEND_ACCOUNT", "WARN"}),
)  # fmt: skip


def rule_text(
    condition: str,
    *,
    on: str = "content.posted",
    regions: str = "EU",
    actions: str = 'open_case(queue="spam", priority=50)',
    extra: str = "",
) -> str:
    return f'rule "test"\non {on}\nin {regions}\npolicy SPAM\n{extra}when {condition}\nthen {actions}\n'


def define(condition: str, *, rule_id: str = "r1", **header: str) -> CompiledRule:
    return define_rule(rule_text(condition, **header), CATALOGUE, rule_id=rule_id, version=1)


def event(
    text: str = "hello",
    *,
    type: str = "content.posted",
    region: str = "EU",
    entities: Mapping[str, str] | None = None,
    signals: Mapping[str, float] | None = None,
    **attributes: object,
) -> Event:
    return Event(
        type,
        region,
        dict(entities if entities is not None else {"account": "a1", "content": "c1"}),
        {"text": text, **attributes},
        NOW,
        "key-1",
        dict(signals or {}),
    )
