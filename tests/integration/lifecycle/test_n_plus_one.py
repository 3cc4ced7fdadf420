"""Rule 7: a page of cases with its relations costs a fixed number of statements, whatever the page size."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.account import AccountKind
from domain.actor import Actor, ActorKind
from domain.content import ContentKind
from domain.decision import Verdict
from domain.enforcement import ActionKind, RequestedAction
from domain.policy import Severity
from domain.region import Region
from domain.report import ReportSource
from domain.services.account import UpsertAccount, upsert_account
from domain.services.content import UpsertContent, upsert_content
from domain.services.decision import DecideCase, decide_case
from domain.services.policy import DefinePolicy, define_policy
from domain.services.report import SubmitReport, submit_report
from domain.subject import SubjectKind, Surface
from persistence.db import SessionFactory
from persistence.fast.sql import recording_queries
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token
from tests.unit.domain.builders import SANCTIONS

CASES = 60
CREATORS = 20
SEED_ACTOR = Actor(id="seed", kind=ActorKind.SYSTEM, seniority=5, capabilities=SANCTIONS)

PAGE = """
query($first: Int!) { cases(first: $first) { nodes {
  id
  subject { ... on Content { id owner { id } } }
  account { id email }
  reports { id policy { code } }
  strikes { id }
  decision { id actions { kind } }
} } }"""


def _runtime(gql: GraphQLClient) -> Any:
    return gql.http._transport.app.state.runtime  # type: ignore[attr-defined]


async def _seed(sessions: SessionFactory, region: Region = Region.US) -> None:
    """60 reported videos by 20 creators (one case each) in ``region``; every third case decided VIOLATING."""
    audit = AuditContext(actor_kind="SYSTEM", actor_id="seed", operation="seed")
    async with PostgresUnitOfWork(sessions, audit) as uow:
        policies = []
        for code in ("SPAM", "HATE_SPEECH"):
            defined = await define_policy(
                uow,
                SEED_ACTOR,
                DefinePolicy(
                    code=code,
                    name=code,
                    surface=Surface.CONTENT,
                    severity=Severity.LOW,
                    dsa_category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
                    description=code,
                ),
            )
            policies.append(defined.policy.id)
        creators = []
        for c in range(CREATORS):
            account = await upsert_account(
                uow,
                SEED_ACTOR,
                UpsertAccount(
                    region=region,
                    external_id=f"creator-{c}",
                    kind=AccountKind.CREATOR,
                    handle=f"c{c}",
                    display_name=f"Creator {c}",
                    email=f"c{c}@example.com",
                ),
            )
            creators.append(account.id)
        case_ids: list[uuid.UUID] = []
        for i in range(CASES):
            video = await upsert_content(
                uow,
                SEED_ACTOR,
                UpsertContent(
                    owner_account_id=creators[i % CREATORS], external_id=f"video-{i}", kind=ContentKind.VIDEO
                ),
            )
            report = await submit_report(
                uow,
                SEED_ACTOR,
                SubmitReport(
                    subject_kind=SubjectKind.CONTENT,
                    subject_id=video.id,
                    policy_id=policies[i % 2],
                    source=ReportSource.USER,
                ),
            )
            case_ids.append(report.case_id)
        for i in range(0, CASES, 3):
            await decide_case(
                uow,
                SEED_ACTOR,
                DecideCase(
                    case_id=case_ids[i],
                    verdict=Verdict.VIOLATING,
                    policy_id=policies[i % 2],
                    rationale="seeded",
                    actions=(RequestedAction(ActionKind.REMOVE_CONTENT),),
                ),
            )


# The app's background audit sealer shares the engine; its statements are not the request's.
BACKGROUND = re.compile(r"audit_events|audit_seals|advisory", re.IGNORECASE)
FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)

# One statement per table per level of the query, whatever the page size:
EXPECTED_TABLES = sorted(
    [
        "api_tokens",  # authentication: the bearer token
        "role_assignments",  # authentication: the principal's roles (cached for 5 s in production)
        "cases",  # the page itself (keyset, one extra row for hasNextPage)
        "contents",  # cases.subject (Content), batched
        "accounts",  # cases.account, batched; subject.owner is the same account, answered from the loader's cache
        "reports",  # cases.reports, grouped by case
        "strikes",  # cases.strikes, grouped by decision
        "decisions",  # cases.decision, batched
        "policies",  # reports.policy, batched (second level)
        "enforcement_actions",  # decision.actions, grouped by decision (second level)
    ]
)


@contextmanager
def _counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not BACKGROUND.search(statement):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


def _tables(statements: list[str]) -> list[str]:
    return sorted(m.group(1) if (m := FROM.search(s)) else s for s in statements)


@pytest.fixture
async def admin(db_url: str, gql: GraphQLClient) -> str:
    token = await issue_staff_token(db_url, "admin", "*")
    await _seed(_runtime(gql).sessions)
    return token


async def test_a_page_of_cases_costs_the_same_statements_for_10_and_50(gql: GraphQLClient, admin: str) -> None:
    engine: AsyncEngine = _runtime(gql).sessions.kw["bind"]
    tables: dict[int, list[str]] = {}
    await gql(PAGE, {"first": 5}, token=admin)  # new pool connections introspect types once: not the page's cost
    for first in (10, 50):
        with _counting(engine) as statements, recording_queries() as round_trips:
            body = await gql(PAGE, {"first": first}, token=admin)
        statements += round_trips  # the page and its loaders run on the plain pool: one round trip each
        assert "errors" not in body, body
        nodes = body["data"]["cases"]["nodes"]
        assert len(nodes) == first
        assert sum(1 for n in nodes if n["decision"]) == len([n for n in nodes if n["strikes"]]) > 0
        assert all(n["subject"]["owner"]["id"] == n["account"]["id"] for n in nodes)
        assert all(n["account"]["email"] and n["reports"][0]["policy"]["code"] for n in nodes)
        tables[first] = _tables(statements)

    assert len(tables[10]) == len(tables[50]) == 10
    assert tables[10] == tables[50] == EXPECTED_TABLES
