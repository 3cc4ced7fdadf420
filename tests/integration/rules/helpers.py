"""Shared by the rules tests: the rule mutations and a rule text."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.operations.helpers import define_queue

RESULT = """
    __typename
    ... on RuleSuccess { rule { id region name state currentVersion { number state source dailyActionCap } } }
    ... on RuleTextError { code ruleCode line column message field }
    ... on Error { code message field }
"""
CREATE = f"mutation($input: CreateRuleInput!) {{ createRule(input: $input) {{ {RESULT} }} }}"
UPDATE = f"mutation($input: UpdateRuleInput!) {{ updateRule(input: $input) {{ {RESULT} }} }}"
TRANSITION = f"mutation($input: TransitionRuleInput!) {{ transitionRule(input: $input) {{ {RESULT} }} }}"


def rule_text(name: str = "many-logins", region: str = "US", threshold: int = 3, then: str | None = None) -> str:
    action = then or 'label(account, "suspicious-logins", 1d)'
    return (
        f'rule "{name}"\non account.login\nin {region}\npolicy SPAM\n'
        f"when count(logins, account, 1h) >= {threshold}\nthen {action}\n"
    )


async def mutate(gql: GraphQLClient, token: str, query: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = await gql(query, {"input": payload}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = next(iter(body["data"].values()))
    return result


async def spam_queue(gql: GraphQLClient, token: str, region: str = "US", name: str = "spam") -> str:
    """The content queue ``open_case(queue="spam", ...)`` names (a rule naming a queue its region lacks is refused)."""
    queue = await define_queue(gql, token, name, region=region)
    return str(queue["id"])
