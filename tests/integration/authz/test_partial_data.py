"""Partial data (issue 14, point 3): a field the caller may be refused is nullable, so a refusal nulls that field
alone (with a FORBIDDEN error at its path) and never the whole response; a committed mutation answers its payload.

The schema walk: from every root field, each reachable object type is guarded by a permission (a node type by
the read permission of its type, see `api.graphql.shared.visibility`; any other type by the field that led to it). A
nested field declaring `requires(...)` with another permission than its parent's may be refused while its parent
is visible: it must be nullable."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLUnionType, get_named_type

from api.graphql.permissions import declared_permission
from api.graphql.schema import build_schema
from api.graphql.shared.visibility import READ_PERMISSION
from authz.permissions import Permission
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

SCHEMA = build_schema()
Guard = frozenset[Permission]


def _strawberry_field(type_name: str, graphql_name: str) -> Any:
    definition = SCHEMA.get_type_by_name(type_name)
    for field in getattr(definition, "fields", []):
        if SCHEMA.config.name_converter.get_graphql_name(field) == graphql_name:
            return field
    return None


def _declared(type_name: str, field_name: str) -> Guard | None:
    declared = declared_permission(_strawberry_field(type_name, field_name))
    return frozenset(declared) if isinstance(declared, tuple) else None


def _object_types(named: Any) -> list[GraphQLObjectType]:
    if isinstance(named, GraphQLUnionType):
        return list(named.types)
    return [named] if isinstance(named, GraphQLObjectType) else []


def _guard_of(type_name: str, inherited: Guard) -> Guard:
    permission = READ_PERMISSION.get(type_name)
    return frozenset({permission}) if permission is not None else inherited


def refusable_non_null_fields() -> tuple[list[str], list[str]]:
    """(non-null nested fields guarded by another permission than their parent's, every guarded nested field)."""
    graphql_schema = SCHEMA._schema
    roots = [t for t in (graphql_schema.query_type, graphql_schema.mutation_type) if t is not None]
    pending: list[tuple[GraphQLObjectType, Guard]] = []
    for root in roots:
        for name, field in root.fields.items():
            guard = _declared(root.name, name) or frozenset()
            pending += [(t, _guard_of(t.name, guard)) for t in _object_types(get_named_type(field.type))]
    seen: set[tuple[str, Guard]] = set()
    offending: set[str] = set()
    guarded: set[str] = set()
    while pending:
        type_, guard = pending.pop()
        if (type_.name, guard) in seen:
            continue
        seen.add((type_.name, guard))
        for name, field in type_.fields.items():
            declared = _declared(type_.name, name)
            if declared is not None:
                guarded.add(f"{type_.name}.{name}")
                if declared != guard and isinstance(field.type, GraphQLNonNull):
                    offending.add(f"{type_.name}.{name}")
            field_guard = declared or guard
            pending += [(t, _guard_of(t.name, field_guard)) for t in _object_types(get_named_type(field.type))]
    return sorted(offending), sorted(guarded)


def test_no_non_null_field_is_guarded_by_another_permission_than_its_parent() -> None:
    offending, guarded = refusable_non_null_fields()

    assert offending == []
    # The walk does see the guarded nested fields: every record's audit history needs audit:read.
    assert {f"{t}.history" for t in ("Account", "Content", "Ad", "Case", "Appeal")} <= set(guarded)


CASES_WITH_HISTORY = """{ cases(first: 5) { nodes { id state history { nodes { action } } } } }"""


async def _one_case(db_url: str, gql: GraphQLClient) -> str:
    admin = await issue_staff_token(db_url, "admin", "*")
    owner = await flows.account(gql, admin, "partial-owner")
    video = await flows.content(gql, admin, owner, "partial-video")
    policy = await flows.policy(gql, admin, "PARTIAL_POLICY")
    return str((await flows.report(gql, admin, video, policy))["case"]["id"])


async def test_a_refused_history_nulls_that_field_alone(db_url: str, gql: GraphQLClient) -> None:
    case_id = await _one_case(db_url, gql)
    moderator = await issue_staff_token(db_url, "moderator", "US")  # cases:read, no audit:read

    body = await gql(CASES_WITH_HISTORY, token=moderator)

    assert body["data"] is not None, body
    assert body["data"]["cases"]["nodes"] == [{"id": case_id, "state": "OPEN", "history": None}]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["cases", "nodes", 0, "history"]

    auditor = await issue_staff_token(db_url, "auditor", "*")
    seen = await gql(CASES_WITH_HISTORY, token=auditor)
    assert "errors" not in seen, seen
    assert seen["data"]["cases"]["nodes"][0]["history"]["nodes"]  # the same field, allowed: the events


async def test_a_committed_report_answers_its_payload_even_when_a_sub_field_is_refused(
    db_url: str, gql: GraphQLClient
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    owner = await flows.account(gql, admin, "flagged-owner", region="EU")
    video = await flows.content(gql, admin, owner, "flagged-video")
    policy = await flows.policy(gql, admin, "FLAGGED_POLICY")
    # cases:read shows the case the report folded into; without audit:read its history is refused
    flagger = await issue_partner_token(db_url, "flagger-eu", ["trusted_flagger", "cases:read"], "EU")
    document = """mutation($input: SubmitReportInput!) { submitReport(input: $input) { __typename
      ... on SubmitReportSuccess { report { id status } case { id history { nodes { action } } } } } }"""
    variables = {"input": {"subjectId": video, "policyId": policy, "source": "TRUSTED_FLAGGER", "idempotencyKey": "k1"}}

    body = await gql(document, variables, token=flagger)

    assert body["data"] is not None, body
    payload = body["data"]["submitReport"]
    assert payload["__typename"] == "SubmitReportSuccess"
    assert payload["report"]["status"] == "OPEN"
    assert payload["case"]["history"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["submitReport", "case", "history"]
    mine = await gql("{ reports(first: 5) { nodes { id } } }", token=flagger)
    assert [n["id"] for n in mine["data"]["reports"]["nodes"]] == [payload["report"]["id"]]  # it was committed


def test_every_root_query_field_that_declares_a_permission_is_nullable() -> None:
    query_type = SCHEMA._schema.query_type
    assert query_type is not None
    non_null = [
        name
        for name, field in query_type.fields.items()
        if _declared(query_type.name, name) and isinstance(field.type, GraphQLNonNull)
    ]
    assert non_null == []


async def test_a_refused_root_field_nulls_itself_and_leaves_the_others(db_url: str, gql: GraphQLClient) -> None:
    moderator = await issue_staff_token(db_url, "moderator", "US")
    body = await gql(
        "{ viewer { kind } cases(first: 1) { nodes { id } } tokens: apiTokens(first: 1) { nodes { id } } }",
        token=moderator,
    )
    assert body["data"]["viewer"] == {"kind": "STAFF"}
    assert body["data"]["cases"] == {"nodes": []}
    assert body["data"]["tokens"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["tokens"], "FORBIDDEN")]
