"""The process's rule-set cache: requests that arrive while it makes its first load wait for that load (one
build of the rule sets and their list index, not one per request); a rebuild keeps what did not change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from domain.rules.event import Event
from domain.rules.memory import Snapshot
from persistence import rule_runtime
from persistence.fast.sql import create_pool
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import CREATE, TRANSITION, UPDATE, mutate
from tests.integration.rules.test_named_lists import CREATE_LIST, EDIT_LIST
from tests.integration.tokens import issue_staff_token


async def test_requests_during_the_first_load_wait_for_it(db_url: str) -> None:
    pool = await create_pool(db_url, size=4)
    cache = rule_runtime.RuleSetCache(pool, poll=60)
    try:
        loaded = await asyncio.gather(*(cache.get() for _ in range(8)))
        assert cache.rebuilds == 1
        assert all(each is loaded[0] for each in loaded)
    finally:
        cache.close()
        await pool.close()


def _phrases(name: str, region: str, phrase: str) -> str:
    return (
        f'rule "{name}"\non content.posted\nin {region}\npolicy SPAM\n'
        f'when has_keyword(text, "{region.lower()}-phrases") or contains(text, "{phrase}")\n'
        'then label(account, "spammy")\n'
    )


async def test_a_rebuild_keeps_what_did_not_change(gql: GraphQLClient, db_url: str) -> None:
    """A rule edit reuses every list index and every other compiled rule (a rebuild then takes milliseconds, not
    the seconds large lists take to read and index); a list edit rebuilds its own region's index only; a change of
    the catalogue (a new policy) compiles the rules again. Each rebuild answers as a fresh load would."""
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    lists, rules = {}, {}
    for region in ("US", "EU"):
        made = await mutate(
            gql, admin, CREATE_LIST, {"region": region, "name": f"{region.lower()}-phrases", "kind": "KEYWORD",
                                      "entries": ["free coins"]},
        )  # fmt: skip
        lists[region] = made["namedList"]["id"]
        for name in ("a", "b"):
            rule = await mutate(gql, admin, CREATE, {"region": region, "source": _phrases(name, region, "zzz")})
            rules[region, name] = rule["rule"]["id"]
            await mutate(gql, admin, TRANSITION, {"ruleId": rule["rule"]["id"], "state": "SHADOW"})
    pool = await create_pool(db_url, size=2)
    cache = rule_runtime.RuleSetCache(pool, poll=60)
    try:
        first = await cache.get()
        memo = cache._memo
        indexes = {region: memo.indexes[region][1] for region in ("US", "EU")}
        compiled = dict(memo.rules)
        assert len(compiled) == 4

        edited = await mutate(gql, admin, UPDATE, {"ruleId": rules["US", "a"], "source": _phrases("a", "US", "yyy")})
        assert edited["__typename"] == "RuleSuccess", edited
        assert await cache.refresh(force=False)
        assert all(memo.indexes[region][1] is indexes[region] for region in ("US", "EU"))
        kept = [key for key, (_, rule) in memo.rules.items() if compiled.get(key, (None, None))[1] is rule]
        assert len(kept) == 3  # the edit's new version alone compiled
        assert len(memo.rules) == 4
        assert await _answers(cache, pool, "yyy") == {"US": 1, "EU": 0}

        await mutate(gql, admin, EDIT_LIST, {"listId": lists["EU"], "add": ["cheap pills"]})
        assert await cache.refresh(force=False)
        assert memo.indexes["US"][1] is indexes["US"]
        assert memo.indexes["EU"][1] is not indexes["EU"]
        assert await _answers(cache, pool, "cheap pills") == {"US": 0, "EU": 2}

        before = dict(memo.rules)
        await flows.policy(gql, admin, "SCAM")  # every region's catalogue changed: every rule checked again
        assert await cache.refresh()  # (a new policy alone moves no generation: the next rebuild sees it)
        assert all(before[key][1] is not rule for key, (_, rule) in memo.rules.items())
        assert await _answers(cache, pool, "free coins") == {"US": 2, "EU": 2}
        assert first is not cache._loaded
    finally:
        cache.close()
        await pool.close()


async def _answers(cache: rule_runtime.RuleSetCache, pool: asyncpg.Pool, text: str) -> dict[str, int]:
    """Per region, how many rules the cache's rule sets hit on an event, checked to be what a load from nothing
    hits."""
    fresh = await rule_runtime.load_rules(pool, datetime.now(UTC))
    cached = await cache.get()
    found: dict[str, int] = {}
    for region in ("US", "EU"):
        event = Event("content.posted", region, {"account": "u-1", "content": "c-1"}, {"text": text}, NOW, "k")
        hits = [sorted((h.rule_id, h.version) for h in loaded.rulesets[region].evaluate(event, Snapshot({}, {})).hits)
                for loaded in (fresh, cached)]  # fmt: skip
        assert hits[0] == hits[1], (region, text)
        found[region] = len(hits[0])
    return found
