"""The rule set: evaluation of each construct, region walls, the CPU budget, rollout, prefetch needs, counters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from domain.rules.actions import OpenCase
from domain.rules.catalogue import ListKind
from domain.rules.compiler import CompiledRule
from domain.rules.engine import FailureCode, RuleSet, counter_records, rollout_position
from domain.rules.errors import RuleDefinitionError, RuleErrorCode
from domain.rules.lists import ListIndex, ListSnapshot
from domain.rules.memory import Snapshot
from domain.rules.ports import CounterKey, EntityFacts
from tests.unit.rules.support import CATALOGUE, NOW, define, event

LISTS = ListIndex(
    [
        ListSnapshot("spam", ListKind.KEYWORD, 1, ["free coins", "cheap pills"]),
        ListSnapshot("scam", ListKind.KEYWORD, 1, ["wire money"]),
        ListSnapshot("bad-domains", ListKind.DOMAIN, 1, ["evil.com"]),
        ListSnapshot("bad-urls", ListKind.URL, 1, ["good.org/bad"]),
    ]
)
ACCOUNT = EntityFacts(
    age=timedelta(days=2),
    active_strikes=1,
    status="ACTIVE",
    region="EU",
    prior_decisions=3,
    labels=frozenset({"spammer"}),
    signals={"toxicity": 0.4},
)
FACTS = Snapshot(
    {("account", "a1"): ACCOUNT, ("content", "c1"): EntityFacts(signals={"toxicity": 0.95, "spam": 0.2})},
    {CounterKey("reports", "account", "a1", 3600): 6, CounterKey("reporters", "content", "c1", 86400): 2},
)


def matches(condition: str, ev: object = None, facts: Snapshot = FACTS, **header: str) -> bool:
    rules = RuleSet([define(condition, **header)], LISTS)
    result = rules.evaluate(ev or event("hello"), facts)  # type: ignore[arg-type]
    assert not result.failures, result.failures
    return bool(result.hits)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('has_keyword(text, "spam")', True),
        ('has_keyword(text, "scam")', False),
        ('has_domain(text, "bad-domains")', True),
        ('has_url(text, "bad-urls")', True),
        ('matches(text, "(?i)c0!ns")', True),
        ('matches(text, "coins")', False),
        ('matches(title, "coins")', False),
        ('matches(normalize(text), "free coins")', True),
        ('normalize(text) == normalize("get free coins at evil com good org bad")', True),
        ('contains(text, "C0!NS")', True),
        ('contains(text, "coins")', False),
        ('starts_with(lower(title), "big")', True),
        ('ends_with(title, "DEAL")', True),
        ("len(title) == 8", True),
        ("account.age < 7d", True),
        ("account.age > 2d", False),
        ("account.active_strikes >= 1", True),
        ('account.status == "ACTIVE"', True),
        ('account.region != "US"', True),
        ("account.prior_decisions > 2", True),
        ('"spammer" in account.labels', True),
        ('"trusted" not in account.labels', True),
        ('"news" in tags', True),
        ('"sport" in tags', False),
        ("views >= 1000", True),
        ("nsfw", False),
        ("not nsfw", True),
        ('event.region in ["EU", "US"]', True),
        ('event.type == "content.posted"', True),
        ('signal("spam") > 0.5', True),  # the event's own score wins over the subject's stored 0.2
        ('signal("toxicity") > 0.9', True),  # the subject (content) stored score
        ('signal("toxicity", account) > 0.9', False),
        ("count(reports, account, 1h) >= 5", True),
        ("distinct(reporters, content, 24h) >= 3", False),
        ("count(reports, account, 24h) > 0", False),  # another window, another counter
        ("true or nsfw", True),
        ("nsfw and true", False),
        ("nsfw or nsfw or views > 5", True),
        ("true and true and nsfw", False),
    ],
)
def test_each_construct_evaluates(condition: str, expected: bool) -> None:
    ev = event(
        "Get FR33 C0!NS at evil.com: good.org/bad",
        title="Big DEAL",
        tags=["news", "tech"],
        views=1500,
        nsfw=False,
        signals={"spam": 0.8},
    )
    assert matches(condition, ev) is expected


def test_signals_come_from_the_event_then_its_attributes_then_the_subjects_stored_scores() -> None:
    rule = 'signal("toxicity") > 0.9'
    assert matches(rule, event("t"))  # content c1's stored 0.95
    assert not matches(rule, event("t", toxicity=0.5))  # a number attribute of the event wins
    assert matches(rule, event("t", toxicity=0.5, signals={"toxicity": 0.99}))  # its signals win over both
    assert not matches(rule, event("t", entities={"account": "a1", "content": "unknown"}))  # nothing stored: 0


def test_hits_carry_the_rule_and_its_actions() -> None:
    rule = define('has_keyword(text, "spam")', rule_id="spam-1", actions='open_case(queue="spam", priority=70)')
    result = RuleSet([rule], LISTS).evaluate(event("free coins"), FACTS)
    (hit,) = result.hits
    assert (hit.rule_id, hit.version, hit.name, hit.policy) == ("spam-1", 1, "test", "SPAM")
    assert hit.actions == (OpenCase("spam", 70),)
    assert result.evaluated == 1


def test_region_wall_a_rule_never_sees_another_regions_events() -> None:
    seen: list[str] = []
    eu = define("true", rule_id="eu", regions="EU")
    both = define("true", rule_id="eu-us", regions="EU, US")
    rules = RuleSet([eu, both], LISTS)
    for region in ("EU", "US", "APAC", "ROW"):
        result = rules.evaluate(event(region=region), FACTS)
        seen.extend(f"{hit.rule_id}@{region}" for hit in result.hits)
        assert result.evaluated == len(result.hits)
    assert seen == ["eu@EU", "eu-us@EU", "eu-us@US"]
    assert rules.needs(event(region="APAC")).entities == frozenset()


def test_rules_are_indexed_by_event_type() -> None:
    posted = define("true", rule_id="posted")
    sent = define("true", rule_id="sent", on="message.sent")
    rules = RuleSet([posted, sent], LISTS)
    result = rules.evaluate(event(type="message.sent", entities={"account": "a1"}), FACTS)
    assert [h.rule_id for h in result.hits] == ["sent"]
    assert result.evaluated == 1
    assert rules.evaluate(event(type="report.filed"), FACTS).evaluated == 0


class BrokenFacts(Snapshot):
    def counter(self, key: CounterKey) -> int:
        raise KeyError(key)


def test_a_fact_source_that_raises_fails_only_the_rules_reading_it() -> None:
    rules = RuleSet([define("count(reports, account, 1h) > 1", rule_id="counts"), define("true")], LISTS)
    result = rules.evaluate(event(), BrokenFacts(FACTS.entities, {}))
    assert [h.rule_id for h in result.hits] == ["r1"]
    assert [(f.rule_id, f.code) for f in result.failures] == [("counts", FailureCode.RUNTIME_ERROR)]
    assert result.failures[0].message.startswith("KeyError")


def test_absent_attributes_read_as_empty_values() -> None:
    ev = event("t")  # no title, tags, views or nsfw
    assert matches('title == "" and views == 0 and not nsfw and "x" not in tags', ev)
    assert matches("not has(title) and has(text)", ev)
    assert matches("has(title)", event("t", title=""))


def test_runtime_failures_are_reported_not_raised() -> None:
    rules = RuleSet(
        [
            define("account.age > 1d", rule_id="facts"),
            define('"x" in tags', rule_id="wrong-type"),
            define("true", rule_id="fine"),
        ],
        LISTS,
    )
    result = rules.evaluate(event("t", tags="not a list"), Snapshot())
    assert [h.rule_id for h in result.hits] == ["fine"]
    failures = {f.rule_id: f for f in result.failures}
    assert set(failures) == {"facts", "wrong-type"}
    assert all(f.code == FailureCode.RUNTIME_ERROR for f in failures.values())
    assert "no facts about the event's account" in failures["facts"].message
    assert "not a string_list" in failures["wrong-type"].message
    missing = rules.evaluate(event(entities={"content": "c1"}), FACTS)
    assert [(f.rule_id, f.message) for f in missing.failures] == [("facts", "the event carries no account")]


class FakeClock:
    """Nanoseconds that advance by the cost set for the rule running now (deterministic: no real time)."""

    def __init__(self) -> None:
        self.now = 0
        self.step = 10

    def __call__(self) -> int:
        self.now += self.step
        return self.now


def test_a_rule_over_its_budget_is_skipped_then_disabled() -> None:
    wall, cpu = FakeClock(), FakeClock()
    rules = RuleSet(
        [define("true", rule_id="slow"), define("true", rule_id="fast")],
        LISTS,
        budget_ns=1_000,
        max_overruns=2,
        clock=wall,
        cpu_clock=cpu,
    )
    # the wall clock sees a long pause but the rule's own CPU time is small: a preempted process, not a slow rule
    wall.step, cpu.step = 5_000, 10
    result = rules.evaluate(event(), FACTS)
    assert {h.rule_id for h in result.hits} == {"slow", "fast"}
    assert result.failures == ()
    # now both clocks agree the rules are slow: results discarded, overruns counted
    cpu.step = 5_000
    first = rules.evaluate(event(), FACTS)
    assert first.hits == ()
    assert [(f.rule_id, f.code) for f in first.failures] == [
        ("slow", FailureCode.OVER_BUDGET),
        ("fast", FailureCode.OVER_BUDGET),
    ]
    assert first.failures[0].elapsed_ns == 5_000
    second = rules.evaluate(event(), FACTS)
    assert [(f.rule_id, f.code) for f in second.failures] == [
        ("slow", FailureCode.OVER_BUDGET),
        ("slow", FailureCode.DISABLED),
        ("fast", FailureCode.OVER_BUDGET),
        ("fast", FailureCode.DISABLED),
    ]
    assert rules.disabled == {"slow", "fast"}
    wall.step = cpu.step = 10
    third = rules.evaluate(event(), FACTS)
    assert (third.hits, third.failures, third.evaluated) == ((), (), 0)


def test_a_rule_within_budget_is_never_charged() -> None:
    rules = RuleSet([define("true")], LISTS, budget_ns=1_000, clock=FakeClock(), cpu_clock=FakeClock())
    for _ in range(10):
        assert rules.evaluate(event(), FACTS).hits
    assert rules.disabled == frozenset()


def test_re2_runs_catastrophic_patterns_in_linear_time() -> None:
    rules = RuleSet([define('matches(text, "(a+)+$")'), define('matches(text, "(x+x+)+y")', rule_id="r2")], LISTS)
    hostile = "a" * 50_000 + "!"
    started = time.process_time()
    result = rules.evaluate(event(hostile), FACTS)
    elapsed = time.process_time() - started
    assert result.hits == ()
    assert result.failures == ()
    assert elapsed < 2.0  # Python's re needs longer than the age of the universe for this input
    assert rules.evaluate(event("x" * 50_000 + "y"), FACTS).hits


def test_regexes_over_different_fields_use_different_sets() -> None:
    rules = RuleSet(
        [
            define('matches(text, "alpha")', rule_id="text-alpha"),
            define('matches(title, "alpha")', rule_id="title-alpha"),
            define('matches(text, "beta") and matches(text, "alpha")', rule_id="text-both"),
        ],
        LISTS,
    )
    result = rules.evaluate(event("alpha beta", title="gamma"), FACTS)
    assert {h.rule_id for h in result.hits} == {"text-alpha", "text-both"}
    result = rules.evaluate(event("beta", title="alpha"), FACTS)
    assert {h.rule_id for h in result.hits} == {"title-alpha"}


def test_a_rule_set_refuses_rules_reading_lists_it_lacks() -> None:
    with pytest.raises(RuleDefinitionError) as caught:
        RuleSet([define('has_keyword(text, "spam")')], ListIndex([]))
    assert caught.value.code == RuleErrorCode.UNKNOWN_LIST


def test_a_rule_set_whose_regexes_need_too_much_memory_is_refused() -> None:
    heavy = [define(f'matches(text, "[a-z]{{{900 + i}}}")', rule_id=f"r{i}") for i in range(20)]
    RuleSet(heavy, LISTS)  # the default memory holds them
    with pytest.raises(RuleDefinitionError) as caught:
        RuleSet(heavy, LISTS, regex_memory=64 << 10)
    assert caught.value.code == RuleErrorCode.TOO_LARGE


def _entities(n: int) -> Iterator[str]:
    return (f"account-{i}" for i in range(n))


def test_rollout_is_a_stable_share_of_entities() -> None:
    rule = define("true", rule_id="rolled", extra="rollout 20% by account\n")
    rules = RuleSet([rule], LISTS)
    chosen = {
        entity
        for entity in _entities(5000)
        if rules.evaluate(event(entities={"account": entity, "content": "c1"}), FACTS).hits
    }
    assert 900 < len(chosen) < 1100  # 20% of 5000, the hash being uniform
    assert chosen == {e for e in _entities(5000) if rollout_position("rolled", e) < (1 << 64) // 5}
    again = RuleSet([rule], LISTS)  # another process, another rule set: the same entities
    assert all(again.evaluate(event(entities={"account": e, "content": "c1"}), FACTS).hits for e in chosen)
    other = RuleSet([define("true", rule_id="other", extra="rollout 20% by account\n")], LISTS)
    other_chosen = {e for e in chosen if other.evaluate(event(entities={"account": e, "content": "c1"}), FACTS).hits}
    assert len(other_chosen) < len(chosen) / 2  # each rule draws its own share


def test_rollout_defaults_to_the_event_subject() -> None:
    rules = RuleSet([define("true", rule_id="rolled", extra="rollout 50%\n")], LISTS)
    for content in ("c1", "c2", "c3", "c4", "c5", "c6"):
        hit = bool(rules.evaluate(event(entities={"account": "a1", "content": content}), FACTS).hits)
        assert hit is (rollout_position("rolled", content) < 1 << 63)


def test_needs_lists_entities_and_counters_of_the_matching_rules() -> None:
    rules = RuleSet(
        [
            define('count(reports, account, 1h) > 1 and signal("spam") > 0.5'),
            define("distinct(reporters, content, 24h) > 1 and account.age > 1d", rule_id="r2"),
            define("content.active_strikes > 0", rule_id="r3", regions="US"),
        ],
        LISTS,
    )
    needs = rules.needs(event())
    assert needs.entities == {("account", "a1"), ("content", "c1")}  # content: the subject, for signal()
    assert needs.counters == {
        CounterKey("reports", "account", "a1", 3600),
        CounterKey("reporters", "content", "c1", 86400),
    }
    assert rules.needs(event(region="US")).entities == {("content", "c1")}
    assert rules.needs(event(type="message.sent")).counters == frozenset()


def test_counter_records_per_source_and_entity() -> None:
    report = event(type="report.filed", entities={"account": "a1", "content": "c1", "reporter": "u9"})
    records = counter_records(CATALOGUE, report)
    assert {(r.source, r.entity_kind, r.entity_id, r.member) for r in records} == {
        ("reports", "account", "a1", "key-1"),
        ("reports", "content", "c1", "key-1"),
        ("reports", "reporter", "u9", "key-1"),
        ("reporters", "account", "a1", "u9"),
        ("reporters", "content", "c1", "u9"),
    }
    assert all(r.at == NOW for r in records)
    assert counter_records(CATALOGUE, event()) == []


def test_rules_evaluate_in_definition_order_and_share_scans() -> None:
    compiled: list[CompiledRule] = [
        define(f'has_keyword(text, "spam") and views > {i}', rule_id=f"r{i}") for i in range(50)
    ]
    rules = RuleSet(compiled, LISTS)
    result = rules.evaluate(event("cheap pills", views=25), FACTS)
    assert [h.rule_id for h in result.hits] == [f"r{i}" for i in range(25)]
    assert result.evaluated == 50


class ScriptedClock:
    """Returns the given instants in turn (nanoseconds), and counts the reads."""

    def __init__(self, *instants: int) -> None:
        self.instants = list(instants)
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.instants.pop(0)


def test_a_run_within_one_budget_reads_the_clock_twice_whatever_the_rules() -> None:
    clock = ScriptedClock(0, 900)
    rules = RuleSet([define("true", rule_id=f"r{i}") for i in range(3)], LISTS, budget_ns=1_000, clock=clock)
    result = rules.evaluate(event(), FACTS)
    assert [h.rule_id for h in result.hits] == ["r0", "r1", "r2"]
    assert (result.failures, result.evaluated, clock.reads) == ((), 3, 2)


def test_a_slow_run_is_timed_rule_by_rule_and_charges_only_a_rule_over_its_budget() -> None:
    # the run took 2,500 ns over three rules (budget 1,000): timed again, r0 400, r1 1,500 (then 1,200 of CPU), r2 400
    wall = ScriptedClock(0, 2_500, 3_000, 3_400, 4_900, 5_000, 5_400)
    cpu = ScriptedClock(0, 1_200)
    rules = RuleSet(
        [define("true", rule_id=f"r{i}") for i in range(3)], LISTS, budget_ns=1_000, clock=wall, cpu_clock=cpu
    )
    result = rules.evaluate(event(), FACTS)
    assert [h.rule_id for h in result.hits] == ["r0", "r2"]
    assert [(f.rule_id, f.code, f.elapsed_ns) for f in result.failures] == [("r1", FailureCode.OVER_BUDGET, 1_200)]
    assert (wall.instants, cpu.instants, result.evaluated) == ([], [], 3)


PLAIN_AND_FAILING = [
    'has_keyword(text, "spam")',
    "account.age > 1d",  # fails on an event without an account
    '"x" in tags',  # fails where tags is not a list
    'signal("toxicity") > 0.5',
    "count(reports, account, 1h) >= 5",
    "true",
    'not has_keyword(text, "scam")',
]


@pytest.mark.parametrize(
    "ev",
    [
        event("free coins here"),
        event("wire money now", tags=["x"]),
        event("hello", tags="not a list"),
        event("free coins", entities={"content": "c1"}),
        event("cheap pills", signals={"toxicity": 0.9}),
    ],
    ids=["hits", "list-attribute", "wrong-type", "no-account", "signals"],
)
def test_the_plain_loop_answers_as_the_loop_that_reports_each_rule(ev: object) -> None:
    """A bucket with no rollout runs its conditions in one plain loop, and runs them again one by one with each
    failure reported if any raised: the same evaluation as the general loop (forced here by a disabled rule)."""
    rules = [define(c, rule_id=f"r{i}") for i, c in enumerate(PLAIN_AND_FAILING)]
    plain, general = RuleSet(rules, LISTS), RuleSet(rules, LISTS)
    general._disabled_any = True  # what a disabled rule anywhere in the set does: every bucket takes the loop
    assert plain.evaluate(ev, FACTS) == general.evaluate(ev, FACTS)  # type: ignore[arg-type]
