"""Issue 10 items 2, 6 and 7: the database layer never logs bound parameters; a client error is one INFO line
with its code and no traceback; a traceback is logged only for a real fault."""

from __future__ import annotations

import logging

import httpx
import sqlalchemy as sa

from persistence.db import create_engine
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token
from tests.security.conftest import AppClient, LogLines

PII = {"email": "planted.victim@example.com", "phone": "+1-555-0100-777", "lastIp": "203.0.113.77"}


async def _force_insert_failure(db_url: str) -> None:
    """Make every insert into accounts fail inside PostgreSQL (a real database error, raised by the server)."""
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "CREATE FUNCTION refuse_accounts() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'forced failure for the test'; END $$"
                )
            )
            await conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_accounts BEFORE INSERT ON accounts "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_accounts()"
                )
            )
    finally:
        await engine.dispose()


async def test_a_database_error_logs_no_bound_parameters(db_url: str, gql: GraphQLClient, logs: LogLines) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    await _force_insert_failure(db_url)
    logs.clear()
    variables = {
        "input": {"region": "US", "externalId": "pii-1", "kind": "CREATOR", "handle": "h", "displayName": "d", **PII}
    }

    body = await gql(flows.UPSERT_ACCOUNT, variables, token=platform)

    assert body["errors"][0]["message"] == "Unexpected error."  # a real fault: masked for the client
    text = logs.text()
    assert "forced failure for the test" in text  # the fault itself is in the log, with its traceback...
    for value in PII.values():
        assert value not in text  # ...but none of the values bound to the statement
    faults = logs.at_least(logging.ERROR)
    assert len(faults) == 1
    assert faults[0].exc_info


async def test_a_constraint_violation_logs_no_row_values(db_url: str, gql: GraphQLClient, logs: LogLines) -> None:
    """PostgreSQL's own message repeats the values ("DETAIL: Key (email)=(...) already exists.")."""
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE UNIQUE INDEX one_account_per_email ON accounts (email)"))
    finally:
        await engine.dispose()
    account = {"region": "US", "kind": "CREATOR", "handle": "h", "displayName": "d", **PII}
    first = await gql(flows.UPSERT_ACCOUNT, {"input": {**account, "externalId": "a"}}, token=platform)
    assert first["data"]["upsertAccount"]["__typename"] == "UpsertAccountSuccess"
    logs.clear()

    second = await gql(flows.UPSERT_ACCOUNT, {"input": {**account, "externalId": "b"}}, token=platform)

    # a unique violation is a lost race to the retry policy: six of them are a typed CONFLICT, not a fault
    assert second["data"]["upsertAccount"]["code"] == "CONFLICT"
    text = logs.text()
    assert "one_account_per_email" in text  # which rule kept refusing is logged...
    assert logs.at_least(logging.WARNING)
    for value in PII.values():
        assert value not in text  # ...without the row's values


async def test_client_errors_are_one_info_line_without_traceback(
    db_url: str, gql: GraphQLClient, logs: LogLines
) -> None:
    moderator = await issue_staff_token(db_url, "moderator", "US")
    logs.clear()
    await gql("{ noSuchField }")  # validation
    await gql("{ cases(first: 1) { nodes { id } } }")  # UNAUTHENTICATED
    await gql("{ apiTokens(first: 1) { nodes { id } } }", token=moderator)  # FORBIDDEN
    await gql("{ cases(first: 1000) { nodes { id } } }", token=moderator)  # BAD_REQUEST-like refusal

    assert not logs.tracebacks()
    assert not logs.at_least(logging.WARNING)
    lines = [r for r in logs.records if r.getMessage() == "graphql client error"]
    assert len(lines) == 4
    assert [line.levelno for line in lines] == [logging.INFO] * 4
    codes = [code for line in lines for code in line.error_codes]  # type: ignore[attr-defined]
    assert {"GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED", "FORBIDDEN"} <= set(codes)


async def test_a_hundred_directives_are_one_short_answer_and_no_error_lines(
    app_client: AppClient, logs: LogLines
) -> None:
    document = "{ __typename " + "@aa " * 101 + "}"
    async with app_client(env="production") as http:
        response = await http.post("/graphql", json={"query": document})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert not logs.at_least(logging.WARNING)
    assert len([r for r in logs.records if r.getMessage() == "graphql client error"]) == 1


async def test_other_validation_errors_are_capped_too(http: httpx.AsyncClient) -> None:
    document = "{ " + " ".join(f"f{i}: noSuchField{i}" for i in range(25)) + " }"
    response = await http.post("/graphql", json={"query": document})
    assert len(response.json()["errors"]) <= 11  # ten, then "too many validation errors"


async def test_directives_under_the_cap_still_work(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename @include(if: true) @skip(if: false) }"})
    assert response.json() == {"data": {"__typename": "Query"}}
