"""Definition-time refusals: unknown names and type errors, each a typed error naming line and column."""

from __future__ import annotations

import pytest

from domain.rules.actions import Decide, Delayed, Hold, Label, OpenCase
from domain.rules.compiler import define_rule
from domain.rules.errors import RuleDefinitionError, RuleErrorCode
from tests.unit.rules.support import CATALOGUE, define, rule_text

C = RuleErrorCode


@pytest.mark.parametrize(
    ("condition", "code", "column", "fragment"),
    [
        ('has_keyword(text, "nope")', C.UNKNOWN_LIST, 24, "unknown list 'nope'"),
        ('has_domain(text, "spam")', C.LIST_KIND_MISMATCH, 23, "'spam' is a keyword list"),
        ('has_keyword(text, "bad-urls")', C.LIST_KIND_MISMATCH, 24, "needs a keyword list"),
        ('signal("virality") > 0.5', C.UNKNOWN_SIGNAL, 13, "unknown signal 'virality'"),
        ("colour == 1", C.UNKNOWN_ATTRIBUTE, 6, "unknown attribute 'colour'"),
        ("account.shoe_size > 3", C.UNKNOWN_FACT, 6, "unknown fact 'shoe_size'"),
        ('event.colour == "x"', C.UNKNOWN_FACT, 6, "unknown event field"),
        ("planet.age > 1d", C.UNKNOWN_ENTITY, 6, "unknown entity kind 'planet'"),
        ("ad.age > 1d", C.UNKNOWN_ENTITY, 6, "carries a ad"),
        ("frobnicate(text)", C.UNKNOWN_FUNCTION, 6, "unknown function frobnicate()"),
        ("count(views, account, 1h) > 1", C.UNKNOWN_COUNTER, 12, "unknown counter 'views'"),
        ("count(reporters, account, 1h) > 1", C.UNKNOWN_COUNTER, 12, "use distinct(...)"),
        ("count(reports, account, 32d) > 1", C.TYPE_ERROR, 30, "from 1s to 31d"),
        ("count(reports, account, 5) > 1", C.TYPE_ERROR, 30, "window"),
        ("text == 1", C.TYPE_ERROR, 6, "cannot compare a string with a number"),
        ("account.age > 5", C.TYPE_ERROR, 6, "two numbers or two durations"),
        ('text > "a"', C.TYPE_ERROR, 6, "two numbers or two durations"),
        ('text in "abc"', C.TYPE_ERROR, 6, "'in' needs a string on the left and a list on the right"),
        ("views", C.TYPE_ERROR, 6, "the condition must be a bool"),
        ("not text", C.TYPE_ERROR, 10, "the operand of 'not' must be a bool"),
        ("nsfw and text", C.TYPE_ERROR, 15, "an operand of 'and'"),
        ("len(views) > 1", C.TYPE_ERROR, 10, "argument 1 of len() must be a string"),
        ("contains(text)", C.TYPE_ERROR, 6, "contains() takes 2 arguments"),
        ('contains(text, s="x")', C.TYPE_ERROR, 6, "no named arguments"),
        ('[1, "a"] == tags', C.TYPE_ERROR, 7, "a list item must be a string"),
        ("account == 1", C.TYPE_ERROR, 6, "'account' is not a value"),
        ('matches(text, "(a)\\\\1")', C.BAD_REGEX, 20, "not a valid RE2 regular expression"),
        ('matches(text, "(?=look)ahead")', C.BAD_REGEX, 20, "not a valid RE2"),
        ('matches(text, "\\\\pL{30}")', C.BAD_REGEX, 20, "too large"),
        ('matches(text, "\\\\pL{300}")', C.BAD_REGEX, 20, "not a valid RE2 regular expression: pattern too large"),
        ("matches(text, title)", C.TYPE_ERROR, 20, "must be a string literal"),
        ("signal(title) > 1", C.TYPE_ERROR, 13, "signal name"),
    ],
)
def test_refused_at_definition_with_position(condition: str, code: RuleErrorCode, column: int, fragment: str) -> None:
    with pytest.raises(RuleDefinitionError) as caught:
        define(condition)
    error = caught.value
    assert (error.code, error.line, error.column) == (code, 5, column), error
    assert fragment in error.message


def test_header_names_are_checked_where_written() -> None:
    for old, new, code, spot in [
        ("on content.posted", "on content.posted, video.watched", C.UNKNOWN_EVENT_TYPE, (2, 20)),
        ("in EU", "in EU, MARS", C.UNKNOWN_REGION, (3, 8)),
    ]:
        with pytest.raises(RuleDefinitionError) as caught:
            define_rule(rule_text("true").replace(old, new), CATALOGUE, rule_id="r", version=1)
        assert (caught.value.code, (caught.value.line, caught.value.column)) == (code, spot)
    with pytest.raises(RuleDefinitionError) as caught:
        define_rule(rule_text("true").replace("policy SPAM", "policy NOPE"), CATALOGUE, rule_id="r", version=1)
    assert (caught.value.code, caught.value.line, caught.value.column) == (C.UNKNOWN_POLICY, 4, 8)
    for extra, code in (("rollout 0%\n", C.BAD_ROLLOUT), ("rollout 101%\n", C.BAD_ROLLOUT),
                        ("rollout 5% by ad\n", C.UNKNOWN_ENTITY)):  # fmt: skip
        with pytest.raises(RuleDefinitionError) as caught:
            define("true", extra=extra)
        assert caught.value.code == code
        assert caught.value.line == 5


def test_attributes_and_entities_are_those_every_event_type_offers() -> None:
    define("views > 10")  # a number on content.posted
    with pytest.raises(RuleDefinitionError) as caught:
        define("views > 10", on="content.posted, message.sent")  # a string on message.sent
    assert caught.value.code == C.UNKNOWN_ATTRIBUTE
    with pytest.raises(RuleDefinitionError) as caught:
        define('"x" in content.labels', on="content.posted, message.sent")
    assert caught.value.code == C.UNKNOWN_ENTITY
    define('"x" in account.labels', on="content.posted, message.sent")


def test_well_typed_conditions_are_accepted() -> None:
    rule = define(
        'has_keyword(text, "spam") and signal("spam") > 0.9 and account.age < 7d and account.status != "BANNED"'
        ' and "trusted" not in account.labels and "news" in tags and nsfw == false and len(title) >= 3'
        " and count(reports, account, 1h) >= 5 and distinct(reporters, content, 24h) > 2"
        ' and matches(normalize(text), "coins?") and starts_with(lower(title), "free")'
        ' and signal("toxicity", account) < 0.5 and event.region in ["EU", "US"] and has_url(text, "bad-urls")',
    )
    assert rule.lists == {"spam", "bad-urls"}
    assert rule.entities == {"account"}
    assert rule.reads_subject_signals
    assert {(c.source, c.entity_kind, c.window_seconds) for c in rule.counters} == {
        ("reports", "account", 3600),
        ("reporters", "content", 86400),
    }


def test_actions_become_data() -> None:
    rule = define(
        "true",
        actions='open_case(queue="review", priority=90), decide("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"), '
        'label(account, "spammer", 7d), label(content, "seen"), delay(10m, 2h, hold())',
    )
    assert rule.actions[0] == OpenCase("review", 90)
    assert rule.actions[1] == Decide("SPAM", ("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"))
    assert rule.actions[2].expiry.days == 7
    assert rule.actions[2] == Label("account", "spammer", rule.actions[2].expiry)
    assert rule.actions[3] == Label("content", "seen", None)
    assert isinstance(rule.actions[4], Delayed)
    assert rule.actions[4].action == Hold()
    assert rule.actions[4].min_delay.seconds == 600
    assert rule.actions[4].max_delay.seconds == 7200


@pytest.mark.parametrize(
    ("actions", "code", "fragment"),
    [
        ('open_case(queue="nowhere", priority=1)', C.UNKNOWN_QUEUE, "unknown queue"),
        ('open_case(queue="spam", priority=101)', C.BAD_ACTION, "priority"),
        ('open_case(queue="spam")', C.BAD_ACTION, "needs 'priority'"),
        ('open_case(queue="spam", priority=1, color="red")', C.BAD_ACTION, "no argument 'color'"),
        ('decide("EXPLODE")', C.BAD_ACTION, "unknown enforcement action 'EXPLODE'"),
        ('decide("WARN:0")', C.BAD_ACTION, "unknown enforcement action"),
        ('label(ad, "x")', C.BAD_ACTION, "entity kind"),
        ('label(account, "")', C.BAD_ACTION, "1 to 100 characters"),
        ("delay(2h, 1h, hold())", C.BAD_ACTION, "minimum delay is above the maximum"),
        ("delay(1h, 31d, hold())", C.BAD_ACTION, "a delay is at most 30 days"),
        ("delay(1m, 1h, delay(1m, 1h, hold()))", C.BAD_ACTION, "unknown action delay()"),
        ("launch()", C.BAD_ACTION, "unknown action launch()"),
        ("hold(1)", C.BAD_ACTION, "at most 0 arguments"),
    ],
)
def test_bad_actions_are_refused(actions: str, code: RuleErrorCode, fragment: str) -> None:
    with pytest.raises(RuleDefinitionError) as caught:
        define("true", actions=actions)
    assert caught.value.code == code
    assert caught.value.line == 6
    assert fragment in caught.value.message
