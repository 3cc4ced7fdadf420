"""Issue 10 item 3: query cost analysis on the parsed document (lists multiply: `first`, its default and its cap),
a maximum cost per request refused before any resolver runs, the cost in `extensions` when asked, and an
execution timeout."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from graphql import get_introspection_query, parse

from api.graphql.limits import INTROSPECTION_MAX_COST, introspection_max_cost, operation_cost
from api.graphql.schema import build_schema
from api.settings import Settings
from persistence.fast.sql import recording_queries
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts
from tests.security.conftest import AppClient, LogLines

STALLING = (
    "{"
    + " ".join(
        f"a{i}: cases(first: 100) {{ nodes {{ reports(first: 100) {{ case {{ reports(first: 100) {{ case {{ "
        f"reports(first: 100) {{ id }} }} }} }} }} }} }}"
        for i in range(30)
    )
    + "}"
)

CONSOLE_PAGE = """query ConsolePage($after: String) {
  cases(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id state priority reportCount surface subjectKind slaDueAt assigneeId leaseExpiresAt escalationReason createdAt
      subject { __typename ... on Account { id handle status } ... on Content { id kind title url }
        ... on Ad { id headline } }
      account { id handle status strikes { id status weight } }
      reports(first: 5) { id source createdAt policy { id code name } }
    } }
  }
}"""
CONSOLE_PAGE_COST = 9_505
"""The figure the README documents for the moderation console's 100-case page."""


def _sql(logs: LogLines, table: str) -> list[str]:
    return [
        r.getMessage()
        for r in logs.records
        if r.name.startswith("sqlalchemy.engine") and f"FROM {table}" in r.getMessage()
    ]


async def _post(http: httpx.AsyncClient, token: str, query: str, **extra: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, **extra}, headers={"Authorization": f"Bearer {token}"})
    body: dict[str, Any] = response.json()
    return body


async def test_the_stalling_query_is_refused_before_any_resolver_runs(
    db_url: str, http: httpx.AsyncClient, logs: LogLines
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    logs.clear()

    with recording_queries() as pooled:  # statements on the app's asyncpg pool (pages and loaders)
        body = await _post(http, admin, STALLING)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 1_000_000_000
    assert error["extensions"]["maxCost"] == Settings().max_query_cost
    assert _sql(logs, "cases") == []  # no resolver ran: not one statement read a case
    assert not [q for q in pooled if "FROM cases" in q]
    assert not logs.at_least(logging.ERROR)

    with recording_queries() as pooled:
        await _post(http, admin, "{ cases(first: 1) { nodes { id } } }")
    assert [q for q in pooled if "FROM cases" in q]  # the probe sees statements when resolvers do run


async def test_a_costly_mutation_is_refused_and_writes_nothing(db_url: str, gql: GraphQLClient) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    before = await row_counts(db_url)
    nested = "case { reports(first: 100) { case { reports(first: 100) { case { reports(first: 100) { id } } } } } }"
    document = (
        'mutation { upsertAccount(input: {region: US, externalId: "e", kind: CREATOR, handle: "h", '
        'displayName: "d"}) { ... on UpsertAccountSuccess { account { id } } } '
        'r: submitReport(input: {subjectId: "x", policyId: "y", source: USER}) { ... on SubmitReportSuccess { '
        + nested
        + " } } }"
    )
    body = await gql(document, token=platform)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert await row_counts(db_url) == before


async def test_the_console_page_fits_and_reports_its_cost_when_asked(db_url: str, http: httpx.AsyncClient) -> None:
    moderator = await issue_staff_token(db_url, "moderator", "US")

    asked = await _post(http, moderator, CONSOLE_PAGE, extensions={"cost": True})
    assert "errors" not in asked, asked
    assert asked["extensions"]["cost"] == {"requested": CONSOLE_PAGE_COST, "maximum": Settings().max_query_cost}
    assert Settings().max_query_cost > CONSOLE_PAGE_COST * 2  # room for a richer console page

    not_asked = await _post(http, moderator, CONSOLE_PAGE)
    assert "extensions" not in not_asked


async def test_lists_multiply_by_first_its_default_and_its_cap(db_url: str, app_client: AppClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    async with app_client(max_query_cost=1_000_000) as http:

        async def cost(query: str, variables: dict[str, Any] | None = None) -> int:
            body = await _post(http, admin, query, variables=variables or {}, extensions={"cost": True})
            assert "errors" not in body, body
            return int(body["extensions"]["cost"]["requested"])

        # a field costs 1, plus its sub-selection once per item: cases 1 + nodes 1 + 10 ids
        assert await cost("{ cases(first: 10) { nodes { id } } }") == 1 + 1 + 10
        assert await cost("{ cases(first: 10) { nodes { id } pageInfo { hasNextPage } } }") == 12 + 2  # one pageInfo
        by_variable = "query($n: Int) { cases(first: $n) { nodes { id } } }"
        assert await cost(by_variable, {"n": 3}) == 1 + 1 + 3
        # the same document again: its cost is kept per document and per integer variables, never mixed up
        assert await cost(by_variable, {"n": 7}) == 1 + 1 + 7
        assert await cost(by_variable, {"n": 3}) == 1 + 1 + 3
        assert await cost(by_variable) == 1 + 1 + 100  # absent: the largest page
        # Case.reports without `first`: its default (50)
        assert await cost("{ cases(first: 100) { nodes { reports { id } } } }") == 1 + 1 + 100 * (1 + 50)
        assert await cost("{ viewer { roles { role } } }") == 1 + 1 + 10  # a list without `first` counts 10


def _nodes(ids: str, alias: str = "n") -> str:
    return (
        f"{alias}: nodes(ids: {ids}) {{ ... on Case {{ reports(first: 100) {{ id source policy {{ id code }} }} }} }}"
    )


def test_nodes_counts_one_item_per_id() -> None:
    """Issue 20 point 4: `nodes(ids:)` serves up to 100 items; it counted 10, so nine aliases of 96 ids costed
    45,189, under the limit, and ran 12.7 s. Each id counts now: a literal's or a variable's length."""
    schema = build_schema(Settings(env="test"))._schema  # type: ignore[arg-type]
    per_case = 1 + 100 * (1 + 1 + (1 + 2))  # reports, then per report: id, source, policy { id code }
    ids = "[" + ", ".join(f'"c{i}"' for i in range(96)) + "]"
    assert operation_cost(schema, parse("{ " + _nodes(ids) + " }"), None, None) == 1 + 96 * per_case
    by_variable = parse("query($ids: [ID!]!) { " + _nodes("$ids") + " }")
    assert operation_cost(schema, by_variable, None, {"ids": ["a", "b", "c"]}) == 1 + 3 * per_case
    assert operation_cost(schema, by_variable, None, None) == 1 + 100 * per_case  # unknown: the most it serves
    assert operation_cost(schema, parse("{ " + _nodes('"one"') + " }"), None, None) == 1 + per_case  # coerced
    nine = "{ " + " ".join(_nodes(ids, f"a{i}") for i in range(9)) + " }"
    assert operation_cost(schema, parse(nine), None, None) > Settings().max_query_cost


async def test_the_issues_nodes_page_is_refused_and_costs_follow_the_ids(db_url: str, http: httpx.AsyncClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    ids = "[" + ", ".join(f'"c{i}"' for i in range(96)) + "]"
    nine = "{ " + " ".join(_nodes(ids, f"a{i}") for i in range(9)) + " }"
    with recording_queries() as pooled:
        body = await _post(http, admin, nine)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert body["errors"][0]["extensions"]["cost"] > Settings().max_query_cost
    assert pooled == []  # refused before any resolver ran

    # the cost is kept per document and per the lengths of its list variables: never mixed up
    query = "query($ids: [ID!]!) { " + _nodes("$ids") + " }"
    costs = []
    for count in (3, 7, 3):
        asked = await _post(
            http, admin, query, variables={"ids": [f"x{i}" for i in range(count)]}, extensions={"cost": True}
        )
        costs.append(asked["extensions"]["cost"]["requested"])
    assert costs[0] == costs[2] < costs[1]


def test_first_is_capped_at_the_largest_page() -> None:
    schema = build_schema(Settings(env="test"))._schema  # type: ignore[arg-type]
    huge = operation_cost(schema, parse("{ cases(first: 100000) { nodes { id } } }"), None, None)
    assert huge == operation_cost(schema, parse("{ cases(first: 100) { nodes { id } } }"), None, None) == 102


async def test_the_maximum_cost_is_configurable(db_url: str, app_client: AppClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    async with app_client(max_query_cost=50) as http:
        small = await _post(http, admin, "{ cases(first: 10) { nodes { id } } }")
        large = await _post(http, admin, "{ cases(first: 100) { nodes { id } } }")
    assert "errors" not in small
    assert large["errors"][0]["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 102, "maxCost": 50}


async def test_an_operation_past_the_execution_timeout_is_stopped(db_url: str, app_client: AppClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    async with app_client(execution_timeout=1e-9) as http:  # expires at the first wait on the database
        response = await http.post(
            "/graphql",
            json={"query": "{ cases(first: 1) { nodes { id } } }"},
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_introspection_has_its_own_budget(http: httpx.AsyncClient) -> None:
    # as nested as graphql-core's own introspection rule allows; each alias repeats the walk over every type
    nest = "__schema { types { possibleTypes { fields { type { name } } } } }"
    one = await http.post("/graphql", json={"query": "{ " + nest + " }"})
    assert "errors" not in one.json()
    response = await http.post("/graphql", json={"query": "{ " + " ".join(f"a{i}: {nest}" for i in range(20)) + " }"})
    error = response.json()["errors"][0]
    assert error.get("extensions", {}).get("code") == "QUERY_TOO_COSTLY", error
    schema = build_schema(Settings(env="test"))._schema  # type: ignore[attr-defined]
    budget = introspection_max_cost(schema)
    assert error["extensions"]["maxCost"] == budget >= INTROSPECTION_MAX_COST
    # the schema grows, and its standard introspection query with it: the budget keeps room for it twice over
    standard = parse(get_introspection_query(descriptions=True))
    assert 2 * operation_cost(schema, standard, None, None, introspection=True) <= budget
