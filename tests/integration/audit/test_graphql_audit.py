"""`auditEvents`, `verifyAuditTrail` and `history_for` over GraphQL: audit:read, regions, filters, pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import strawberry

from api.graphql.context import Context, Info
from api.graphql.ids import to_global_id
from api.graphql.shared.common import Connection
from api.graphql.shared.history import AuditEvent, history_for
from api.settings import Settings
from authz.enforcer import Authorizer
from authz.principal import Principal, PrincipalKind
from persistence.audit import seal_all
from persistence.db import SessionFactory
from tests.integration.audit.conftest import T0, event, superuser_sql, write
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token

EVENTS = """query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id sequence actorId action subjectKind subjectId region before after sealed } }
    pageInfo { hasNextPage endCursor }
  } }"""
VERIFY = "{ verifyAuditTrail { ok eventsChecked firstBrokenSequence problem unsealedEvents headPosition } }"


async def _seed(sessions: SessionFactory) -> None:
    """1-6 in US, 7-8 in EU, 9 a security event (no region)."""
    us = [event(n) for n in range(1, 7)]
    eu = [event(n, region="EU") for n in (7, 8)]
    security = [event(9, region=None, action="security.forbidden", subject_kind="Mutation", subject_id="decideCase")]
    await write(sessions, us + eu + security)


def _seqs(body: dict[str, Any]) -> list[int]:
    assert "errors" not in body, body
    return [e["node"]["sequence"] for e in body["data"]["auditEvents"]["edges"]]


async def test_a_global_auditor_sees_everything_newest_first(
    db_url: str, gql: GraphQLClient, sessions: SessionFactory
) -> None:
    await _seed(sessions)
    await seal_all(sessions)  # deterministic `sealed` (the app's own sealer also runs every 2 s)
    token = await issue_staff_token(db_url, "auditor", "*")
    body = await gql(EVENTS, {"filter": {"actorKind": "STAFF", "since": T0.isoformat()}}, token=token)
    assert _seqs(body) == [9, 8, 7, 6, 5, 4, 3, 2, 1]
    first = body["data"]["auditEvents"]["edges"][-1]["node"]
    assert first["id"] == to_global_id("AuditEvent", "1")
    assert (first["before"], first["after"], first["sealed"]) == (
        {"state": "ASSIGNED"},
        {"state": "DECIDED", "n": 1},
        True,
    )


async def test_a_regional_auditor_sees_only_its_region_and_no_security_events(
    db_url: str, gql: GraphQLClient, sessions: SessionFactory
) -> None:
    await _seed(sessions)
    token = await issue_staff_token(db_url, "auditor", "US")
    staff = {"actorKind": "STAFF"}
    assert _seqs(await gql(EVENTS, {"filter": staff}, token=token)) == [6, 5, 4, 3, 2, 1]
    assert _seqs(await gql(EVENTS, {"filter": {"region": "EU"}}, token=token)) == []
    assert _seqs(await gql(EVENTS, {"filter": {"action": "security.forbidden"}}, token=token)) == []


async def test_filters(db_url: str, gql: GraphQLClient, sessions: SessionFactory) -> None:
    await _seed(sessions)
    token = await issue_staff_token(db_url, "auditor", "*")
    subject = to_global_id("Case", _subject(3))
    cases = {
        "actor": ({"actorId": "staff-1"}, [7, 4, 1]),
        "action": ({"action": "submitReport"}, [8, 6, 4, 2]),
        "region": ({"region": "EU"}, [8, 7]),
        "subject": ({"subject": subject}, [3]),
        "kind": ({"subjectKind": "Mutation"}, [9]),
        "time": (
            {"since": (T0 + timedelta(minutes=2)).isoformat(), "until": (T0 + timedelta(minutes=4)).isoformat()},
            [3, 2],
        ),
        "combined": ({"region": "US", "action": "decideCase", "actorId": "staff-2"}, [5]),
    }
    found = {
        name: _seqs(await gql(EVENTS, {"filter": {**flt, "actorKind": "STAFF"}}, token=token))
        for name, (flt, _) in cases.items()
    }
    assert found == {name: expected for name, (_, expected) in cases.items()}


async def test_pages_follow_the_cursor(db_url: str, gql: GraphQLClient, sessions: SessionFactory) -> None:
    await _seed(sessions)
    token = await issue_staff_token(db_url, "auditor", "*")
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        body = await gql(EVENTS, {"first": 4, "after": after, "filter": {"actorKind": "STAFF"}}, token=token)
        seen += _seqs(body)
        pages += 1
        info = body["data"]["auditEvents"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert (seen, pages) == ([9, 8, 7, 6, 5, 4, 3, 2, 1], 3)


async def test_bad_input_is_a_bad_request(db_url: str, gql: GraphQLClient) -> None:
    token = await issue_staff_token(db_url, "auditor", "*")
    too_many = await gql(EVENTS, {"first": 101}, token=token)
    bad_cursor = await gql(EVENTS, {"after": "nonsense"}, token=token)
    bad_subject = await gql(EVENTS, {"filter": {"subject": "%%%"}}, token=token)
    codes = [b["errors"][0]["extensions"]["code"] for b in (too_many, bad_cursor, bad_subject)]
    assert codes == ["BAD_REQUEST"] * 3


async def test_without_audit_read_it_is_refused(db_url: str, gql: GraphQLClient, sessions: SessionFactory) -> None:
    await _seed(sessions)
    moderator = await issue_staff_token(db_url, "moderator", "*")
    refused = await gql(EVENTS, token=moderator)
    anonymous = await gql(EVENTS)
    verify_refused = await gql(VERIFY, token=moderator)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert verify_refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused["data"] == anonymous["data"] == {"auditEvents": None}
    assert verify_refused["data"] == {"verifyAuditTrail": None}


async def test_verify_audit_trail(db_url: str, gql: GraphQLClient, sessions: SessionFactory) -> None:
    await _seed(sessions)
    await seal_all(sessions)
    token = await issue_staff_token(db_url, "auditor", "US")
    intact = (await gql(VERIFY, token=token))["data"]["verifyAuditTrail"]
    checked = intact["eventsChecked"]
    assert checked >= 9  # the seeded events plus those of issuing the token
    assert intact == {
        "ok": True,
        "eventsChecked": checked,
        "firstBrokenSequence": None,
        "problem": None,
        "unsealedEvents": intact["unsealedEvents"],
        "headPosition": checked,
    }
    await superuser_sql(sessions, "UPDATE audit_events SET reason = 'edited' WHERE seq = 2")
    broken = (await gql(VERIFY, token=token))["data"]["verifyAuditTrail"]
    assert (broken["ok"], broken["firstBrokenSequence"], broken["eventsChecked"]) == (False, 2, 1)
    assert "event 2 was altered" in broken["problem"]


# -- history_for, as the record types call it -------------------------------------------------------------
@strawberry.type
class HistoryQuery:
    @strawberry.field
    async def history(
        self, info: Info, kind: str, id: uuid.UUID, first: int = 20, after: str | None = None
    ) -> Connection[AuditEvent]:
        return await history_for(info, kind, id, first, after)


HISTORY_SCHEMA = strawberry.Schema(query=HistoryQuery)
HISTORY = """query($a: UUID!, $b: UUID!, $c: UUID!, $after: String) {
  a: history(kind: "Case", id: $a) { edges { node { sequence } } pageInfo { hasNextPage } }
  b: history(kind: "Case", id: $b, first: 1) { edges { cursor node { sequence } } pageInfo { hasNextPage } }
  c: history(kind: "Case", id: $c) { edges { node { sequence } } }
  rest: history(kind: "Case", id: $b, first: 5, after: $after) { edges { node { sequence } } }
}"""


def _context(sessions: SessionFactory, roles: frozenset[tuple[str, str]]) -> Context:
    principal = Principal(id="p-1", kind=PrincipalKind.STAFF, display_name="p", roles=roles)
    return Context(
        request=None,
        response=None,
        request_id="",
        principal=principal,
        permissions=Authorizer().permission_map(principal),
        sessions=sessions,
        settings=Settings(env="test"),  # type: ignore[arg-type]
    )


def _subject(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-0000-0000-{n:012d}")


async def test_history_is_batched_oldest_first_and_regional(sessions: SessionFactory) -> None:
    a, b, c = _subject(1), _subject(2), _subject(3)
    await write(
        sessions,
        [
            event(1, subject_id=str(a)),
            event(2, subject_id=str(b)),
            event(3, subject_id=str(a)),
            event(4, subject_id=str(b)),
            event(5, subject_id=str(c), region="EU"),
            event(6, subject_id=str(b)),
        ],
    )
    context = _context(sessions, frozenset({("auditor", "US")}))
    first_page = await HISTORY_SCHEMA.execute(HISTORY, {"a": str(a), "b": str(b), "c": str(c)}, context_value=context)
    assert first_page.errors is None
    data = first_page.data
    assert data is not None
    assert [e["node"]["sequence"] for e in data["a"]["edges"]] == [1, 3]
    assert [e["node"]["sequence"] for e in data["b"]["edges"]] == [2]
    assert data["b"]["pageInfo"]["hasNextPage"] is True
    assert data["c"]["edges"] == []  # an EU case's history is not visible to a US auditor
    assert [e["node"]["sequence"] for e in data["rest"]["edges"]] == [2, 4, 6]
    assert context.history_batches == 1

    cursor = data["b"]["edges"][0]["cursor"]
    nxt = await HISTORY_SCHEMA.execute(
        HISTORY,
        {"a": str(a), "b": str(b), "c": str(c), "after": cursor},
        context_value=_context(sessions, frozenset({("auditor", "US")})),
    )
    assert nxt.data is not None
    assert [e["node"]["sequence"] for e in nxt.data["rest"]["edges"]] == [4, 6]


async def test_history_needs_audit_read(sessions: SessionFactory) -> None:
    result = await HISTORY_SCHEMA.execute(
        HISTORY,
        {"a": str(_subject(1)), "b": str(_subject(2)), "c": str(_subject(3))},
        context_value=_context(sessions, frozenset({("moderator", "US")})),
    )
    assert result.errors is not None
    assert {e.extensions["code"] for e in result.errors if e.extensions} == {"FORBIDDEN"}
