"""Keyset pagination through `cases`: walks every record once; bad `first` / `after` are readable errors."""

from __future__ import annotations

import base64
import json

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

CASES = 7
PAGE = """query($first: Int!, $after: String) { cases(first: $first, after: $after) {
  nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


GARBAGE = [
    "garbage",
    "!!!",
    "é",
    _cursor(["2024-01-01T00:00:00+00:00", "not-a-uuid"]),
    _cursor(["not-a-date", "00000000-0000-0000-0000-000000000000"]),
    _cursor([1, "00000000-0000-0000-0000-000000000000"]),
    _cursor({"a": 1}),
    _cursor(42),
    _cursor([None, "00000000-0000-0000-0000-000000000000"]),
    _cursor(["2024-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000", "extra"]),
]


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
    }


async def _seed(gql: GraphQLClient, tokens: dict[str, str]) -> set[str]:
    creator = await flows.account(gql, tokens["platform"], "paged-creator")
    spam = await flows.policy(gql, tokens["admin"], "SPAM", severity="LOW")
    ids = set()
    for n in range(CASES):
        video = await flows.content(gql, tokens["platform"], creator, f"video-{n}")
        ids.add((await flows.report(gql, tokens["platform"], video, spam))["case"]["id"])
    return ids


async def test_first_2_then_after_walks_every_case_once(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    expected = await _seed(gql, tokens)
    seen: list[str] = []
    pages = []
    after = None
    for _ in range(CASES):  # bounded: never loops forever on a cursor that does not advance
        body = await gql(PAGE, {"first": 2, "after": after}, token=tokens["admin"])
        assert "errors" not in body, body
        page = body["data"]["cases"]
        pages.append(page["pageInfo"])
        seen.extend(n["id"] for n in page["nodes"])
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break

    assert len(seen) == len(set(seen)) == CASES
    assert set(seen) == expected
    assert [p["hasNextPage"] for p in pages] == [True, True, True, False]
    assert [p["hasPreviousPage"] for p in pages] == [False, True, True, True]


async def test_first_above_100_is_an_error(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    for first in (101, -1):
        body = await gql(PAGE, {"first": first}, token=tokens["admin"])
        assert flows.error_code(body) == "BAD_REQUEST"
        assert "`first` must be between 0 and 100" in body["errors"][0]["message"]


@pytest.mark.parametrize("after", GARBAGE)
async def test_a_garbage_cursor_is_a_readable_error(gql: GraphQLClient, tokens: dict[str, str], after: str) -> None:
    body = await gql(PAGE, {"first": 2, "after": after}, token=tokens["admin"])
    assert flows.error_code(body) == "BAD_REQUEST"
    assert body["errors"][0]["message"] == "`after` is not a cursor this API issued"
    assert body["errors"][0]["extensions"]["field"] == "after"
