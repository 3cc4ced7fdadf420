"""Named lists over the real app: created and edited as versions (only what changed is written), audited, read
per region, and matched by a rule: an edit changes what the rule matches once the rule sets are rebuilt."""

from __future__ import annotations

from typing import Any

from persistence import rule_runtime
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import SUBMIT, event, fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import CREATE, TRANSITION, mutate
from tests.integration.tokens import issue_partner_token, issue_staff_token

LIST_RESULT = """__typename
    ... on NamedListSuccess { added removed namedList { id name kind currentVersion entryCount } }
    ... on Error { code message field }"""
CREATE_LIST = f"mutation($input: CreateNamedListInput!) {{ createNamedList(input: $input) {{ {LIST_RESULT} }} }}"
EDIT_LIST = f"mutation($input: EditNamedListInput!) {{ editNamedList(input: $input) {{ {LIST_RESULT} }} }}"
ENTRIES = "query($id: ID!) { namedListEntries(listId: $id, first: 10) }"


async def _hits(gql: GraphQLClient, token: str, key: str, text: str) -> int:
    body = await gql(SUBMIT.replace("eventId duplicate", "ruleHits"), {"events": [event(key, text=text)]}, token=token)
    assert "errors" not in body, body
    hits: int = body["data"]["submitEvents"]["results"][0]["ruleHits"]
    return hits


async def _refresh() -> None:
    for cache in list(rule_runtime._caches.values()):
        if not cache.closed:
            await cache.refresh(force=False)


async def test_a_list_is_versioned_and_a_rule_matches_its_current_entries(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    created = await mutate(
        gql,
        admin,
        CREATE_LIST,
        {
            "region": "US",
            "name": "spam-phrases",
            "kind": "KEYWORD",
            "entries": ["free coins", "free coins", " win big "],
        },
    )
    named: dict[str, Any] = created["namedList"]
    assert (named["currentVersion"], named["entryCount"], created["added"]) == (1, 2, 2)
    source = (
        'rule "phrases"\non content.posted\nin US\npolicy SPAM\nwhen has_keyword(text, "spam-phrases")\n'
        'then label(account, "spammy")\n'
    )
    rule = await mutate(gql, admin, CREATE, {"region": "US", "source": source})
    assert rule["__typename"] == "RuleSuccess", rule
    await mutate(gql, admin, TRANSITION, {"ruleId": rule["rule"]["id"], "state": "SHADOW"})
    await _refresh()
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    assert await _hits(gql, platform, "e1", "Get FR33 C0INS now") == 1
    assert await _hits(gql, platform, "e2", "cheap pills") == 0

    edited = await mutate(
        gql, admin, EDIT_LIST, {"listId": named["id"], "add": ["cheap pills", "win big"], "remove": ["free coins"]}
    )
    assert (edited["added"], edited["removed"], edited["namedList"]["currentVersion"]) == (1, 1, 2)
    assert edited["namedList"]["entryCount"] == 2
    await _refresh()
    assert await _hits(gql, platform, "e3", "cheap pills") == 1
    assert await _hits(gql, platform, "e4", "free coins") == 0
    body = await gql(ENTRIES, {"id": named["id"]}, token=admin)
    assert body["data"]["namedListEntries"] == ["cheap pills", "win big"]
    rows = await fetch(db_url, "SELECT value, added_in, removed_in FROM named_list_entries ORDER BY value")
    assert [tuple(r) for r in rows] == [("cheap pills", 2, None), ("free coins", 1, 2), ("win big", 1, None)]
    audits = await fetch(db_url, "SELECT action FROM audit_events WHERE subject_kind = 'NamedList' ORDER BY seq")
    assert [a["action"] for a in audits] == ["createNamedList", "editNamedList"]


async def test_lists_are_walled_by_region_and_checked(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    made = await mutate(gql, admin, CREATE_LIST, {"region": "US", "name": "hosts", "kind": "DOMAIN", "entries": []})
    eu = await issue_staff_token(db_url, "policy_manager", "EU")
    assert (await mutate(gql, eu, EDIT_LIST, {"listId": made["namedList"]["id"], "add": ["x.test"]}))["code"] == (
        "NOT_FOUND"
    )
    assert (await gql(ENTRIES, {"id": made["namedList"]["id"]}, token=eu))["data"]["namedListEntries"] is None
    again = await mutate(gql, admin, CREATE_LIST, {"region": "US", "name": "hosts", "kind": "URL", "entries": []})
    assert (again["code"], again["field"]) == ("CONFLICT", "name")
    blank = await mutate(gql, admin, EDIT_LIST, {"listId": made["namedList"]["id"], "add": ["ok.test", "  "]})
    assert (blank["code"], blank["field"]) == ("INVALID_INPUT", "add[1]")
