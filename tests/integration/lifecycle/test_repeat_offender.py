"""Journey 4: a creator's strikes climb the content ladder to a ban; overturning the third lifts the ban only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

CREATOR = "... on Account { status strikes { status } }"


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "moderator": await issue_staff_token(db_url, "moderator", "US"),
        "senior": await issue_staff_token(db_url, "senior_moderator", "US"),
    }


async def _violation(
    gql: GraphQLClient, tokens: dict[str, str], creator: str, policy: str, n: int, verdict: str = "VIOLATING"
) -> dict[str, Any]:
    video = await flows.content(gql, tokens["platform"], creator, f"video-{n}")
    case_id = (await flows.report(gql, tokens["platform"], video, policy))["case"]["id"]
    actions = [{"kind": "REMOVE_CONTENT"}] if verdict == "VIOLATING" else []
    decided = await flows.decide(gql, tokens["moderator"], case_id, policy, verdict=verdict, actions=actions)
    assert decided["__typename"] == "DecideCaseSuccess", decided
    return {"video": video, **decided}


def _ladder(decided: dict[str, Any]) -> list[str]:
    return [a["kind"] for a in decided["actions"] if a["source"] == "LADDER"]


async def test_three_strikes_warn_restrict_ban_and_overturning_the_third_lifts_the_ban(
    gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    creator = await flows.account(gql, tokens["platform"], "repeat-creator")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")

    first = await _violation(gql, tokens, creator, hate, 1)
    assert _ladder(first) == ["WARN"]
    assert (await flows.node(gql, tokens["moderator"], creator, CREATOR) or {})["status"] == "ACTIVE"
    second = await _violation(gql, tokens, creator, hate, 2)
    assert _ladder(second) == ["RESTRICT_FEATURES"]
    assert (await flows.node(gql, tokens["moderator"], creator, CREATOR) or {})["status"] == "RESTRICTED"
    third = await _violation(gql, tokens, creator, hate, 3)
    assert _ladder(third) == ["BAN_ACCOUNT"]
    assert await flows.node(gql, tokens["moderator"], creator, CREATOR) == {
        "id": creator,
        "status": "BANNED",
        "strikes": [{"status": "ACTIVE"}] * 3,
    }

    appeal = await flows.file_appeal(gql, tokens["platform"], third["decision"]["id"], creator)
    assert appeal["__typename"] == "FileAppealSuccess", appeal
    overturned = await flows.decide_appeal(gql, tokens["senior"], appeal["appeal"]["id"], "OVERTURNED")
    assert overturned["__typename"] == "DecideAppealSuccess", overturned
    assert sorted(a["kind"] for a in overturned["reversedActions"]) == ["BAN_ACCOUNT", "REMOVE_CONTENT"]
    assert overturned["restoredActions"] == []  # the restriction was never lifted: it is still in force
    assert await flows.node(gql, tokens["moderator"], creator, CREATOR) == {
        "id": creator,
        "status": "RESTRICTED",
        "strikes": [{"status": "ACTIVE"}, {"status": "ACTIVE"}, {"status": "REVERSED"}],
    }
    assert await flows.node(gql, tokens["moderator"], third["video"], "... on Content { visibility }") == {
        "id": third["video"],
        "visibility": "VISIBLE",
    }
    assert await flows.node(gql, tokens["moderator"], first["video"], "... on Content { visibility }") == {
        "id": first["video"],
        "visibility": "REMOVED",
    }


async def test_a_not_violating_decision_cannot_be_appealed(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "cleared-creator")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    cleared = await _violation(gql, tokens, creator, hate, 1, verdict="NOT_VIOLATING")

    refused = await flows.file_appeal(gql, tokens["platform"], cleared["decision"]["id"], creator)
    assert refused["__typename"] == "InvalidStateError", refused
    assert refused["code"] == "INVALID_STATE"
    assert refused["field"] == "decisionId"


async def test_a_decision_is_appealed_once_and_only_by_its_account(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "appealing-creator")
    bystander = await flows.account(gql, tokens["platform"], "bystander")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    decided = await _violation(gql, tokens, creator, hate, 1)

    stranger = await flows.file_appeal(gql, tokens["platform"], decided["decision"]["id"], bystander)
    assert stranger["code"] == "FORBIDDEN"
    assert (await flows.file_appeal(gql, tokens["platform"], decided["decision"]["id"], creator))[
        "__typename"
    ] == "FileAppealSuccess"
    second = await flows.file_appeal(gql, tokens["platform"], decided["decision"]["id"], creator)
    assert second["__typename"] == "ConflictError", second
    assert second["code"] == "CONFLICT"
    body = await gql("{ appeals { nodes { id } } }", token=tokens["senior"])
    assert len(body["data"]["appeals"]["nodes"]) == 1


async def test_overturning_the_middle_strike_replays_the_ladder(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "middle-creator")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    await _violation(gql, tokens, creator, hate, 1)
    second = await _violation(gql, tokens, creator, hate, 2)
    third = await _violation(gql, tokens, creator, hate, 3)
    assert _ladder(third) == ["BAN_ACCOUNT"]

    appeal = await flows.file_appeal(gql, tokens["platform"], second["decision"]["id"], creator)
    overturned = await flows.decide_appeal(gql, tokens["senior"], appeal["appeal"]["id"], "OVERTURNED")
    assert overturned["__typename"] == "DecideAppealSuccess", overturned
    # without the second strike the third is only the second: its ban becomes a 7-day restriction
    assert sorted(a["kind"] for a in overturned["reversedActions"]) == [
        "BAN_ACCOUNT",
        "REMOVE_CONTENT",
        "RESTRICT_FEATURES",
    ]
    assert [a["kind"] for a in overturned["restoredActions"]] == ["RESTRICT_FEATURES"]
    assert await flows.node(gql, tokens["moderator"], creator, CREATOR) == {
        "id": creator,
        "status": "RESTRICTED",
        "strikes": [{"status": "ACTIVE"}, {"status": "REVERSED"}, {"status": "ACTIVE"}],
    }
