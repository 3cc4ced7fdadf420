"""A reviewer's "not this rule, for 30 days" (issue 22 point 6): a sampled hit judged wrong snoozes its subject
for that rule only, whose LIVE actions on it are then WITHHELD while other rules still act; and the hit-rate alarm:
a rule whose last hour jumps against its own baseline raises one alarm per hour (a row, a ``rule.alarm`` outbox
event, an audit record, a metric), a steady or quiet rule none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from persistence.rule_alarms import raise_alarms
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import event, fetch
from tests.integration.lifecycle import flows
from tests.integration.observability.test_metrics import scrape
from tests.integration.rules.helpers import TRANSITION, mutate
from tests.integration.rules.test_rules_on_events import _refresh_rule_sets
from tests.integration.rules.test_stats import QUEUE, RATE, posts, review, rule_id_of, send, shadow_rule
from tests.integration.tokens import issue_partner_token, issue_staff_token


def coins(name: str) -> str:
    return (
        f'rule "{name}"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
        'then open_case(queue="spam", priority=80)\n'
    )


def post(key: str, video: str) -> dict[str, object]:
    item = event(key, account="creator-s", text="free coins")
    item["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-s"}, {"kind": "CONTENT", "externalId": video}]
    return item


async def test_a_hit_judged_wrong_snoozes_its_subject_for_that_rule_only(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-s")
    for video in ("v-a", "v-b"):
        await flows.content(gql, admin, owner, video)
    wrong = await shadow_rule(gql, admin, coins("coins-one"))
    other = await shadow_rule(gql, admin, coins("coins-two"))
    await mutate(gql, admin, RATE, {"ruleId": wrong, "sampleRate": 1.0})
    await mutate(gql, admin, RATE, {"ruleId": other, "sampleRate": 0.0})
    for rule_id in (wrong, other):
        await mutate(gql, admin, TRANSITION, {"ruleId": rule_id, "state": "LIVE"})
    await _refresh_rule_sets()
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    await send(gql, platform, [post("first", "v-a")])

    qa = await issue_staff_token(db_url, "qa_reviewer", "US")
    (hit,) = (await gql(QUEUE, {"id": wrong}, token=qa))["data"]["ruleAuditQueue"]["nodes"]
    assert hit["subjectId"] == "v-a"
    for bad in ({"correct": True, "snoozeDays": 30}, {"correct": False, "snoozeDays": 0}):
        refused = await review(gql, qa, hit["id"], **bad)  # type: ignore[arg-type]
        assert refused["code"] == "INVALID_INPUT", refused
    reviewed = await review(gql, qa, hit["id"], False, snoozeDays=30)
    until = datetime.fromisoformat(reviewed["snoozedUntil"])
    assert timedelta(days=29, hours=23) < until - datetime.now(UTC) <= timedelta(days=30)

    await send(gql, platform, [post("second", "v-a"), post("third", "v-b")])
    rows = await fetch(
        db_url,
        "SELECT r.name, h.subject_id, h.actions FROM rule_hits h JOIN rules r ON r.id = h.rule_id "
        "WHERE h.created_at > (SELECT min(v.reviewed_at) FROM rule_hit_reviews v)",
    )
    outcomes = {(r["name"], r["subject_id"]): json.loads(r["actions"])[0] for r in rows}
    assert outcomes[("coins-one", "v-a")] == {"action": "OPEN_CASE", "outcome": "WITHHELD", "reason": "snoozed"}
    assert outcomes[("coins-two", "v-a")]["outcome"] == "TAKEN"
    assert outcomes[("coins-one", "v-b")]["outcome"] == "TAKEN"
    audited = await fetch(db_url, "SELECT after FROM audit_events WHERE action = 'snoozeRuleForEntity'")
    assert len(audited) == 1


async def test_a_jump_against_the_rules_own_baseline_raises_one_alarm(
    gql: GraphQLClient, http: httpx.AsyncClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    jumping = await shadow_rule(gql, admin, coins("jumping"))
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    await send(gql, platform, posts("j", 25))
    # A steady rule: 25 hits this hour too, but 10 an hour over the week before (its version was born then).
    steady = await shadow_rule(gql, admin, coins("steady").replace('"free coins"', '"cheap coins"'))
    await send(gql, platform, posts("s", 25, text="cheap coins"))
    steady_id = rule_id_of(steady)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    await pool.execute("UPDATE rule_versions SET created_at = $2 WHERE rule_id = $1", steady_id, week_ago)
    await pool.execute(
        "INSERT INTO rule_hits (id, rule_id, rule_version, region, mode, event_occurred_at, actions, created_at) "
        "SELECT gen_random_uuid(), $1, 2, 'US', 'SHADOW', t, '[]', t "
        "FROM generate_series(now() - interval '167 hours', now() - interval '61 minutes', interval '6 minutes') t",
        steady_id,
    )
    # A quiet rule: a jump from nothing to 5 is noise.
    await shadow_rule(gql, admin, coins("quiet").replace('"free coins"', '"few coins"'))
    await send(gql, platform, posts("q", 5, text="few coins"))

    now = datetime.now(UTC)
    assert len(await raise_alarms(pool, now)) == 1
    assert await raise_alarms(pool, now) == []  # once per rule and hour
    alarms = await fetch(db_url, "SELECT rule_id, rule_version, hits FROM rule_alarms")
    assert [(str(a["rule_id"]), a["rule_version"], a["hits"]) for a in alarms] == [(rule_id_of(jumping), 2, 25)]
    (outbox,) = await fetch(db_url, "SELECT type, region, payload FROM outbox_events WHERE type = 'rule.alarm'")
    payload = json.loads(outbox["payload"])
    assert (outbox["region"], payload["ruleId"], payload["hitsLastHour"]) == ("US", rule_id_of(jumping), 25)
    assert len(await fetch(db_url, "SELECT 1 FROM audit_events WHERE action = 'raiseRuleAlarm'")) == 1
    found = await scrape(http)
    assert found[("vigil_rule_hit_rate_alarms_1d", (("region", "US"), ("rule", rule_id_of(jumping))))] == 1
