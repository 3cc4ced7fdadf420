"""Issue 10 item 8: every record reachable from a mutation payload passes the read check a nested field applies;
a walk over the built schema proves no payload field (present or future) skips it."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLUnionType, get_named_type

from api.graphql.payloads import ReadCheck
from api.graphql.schema import build_schema
from api.graphql.shared.visibility import READ_PERMISSION
from api.settings import Settings
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token


def _payload_record_fields() -> list[tuple[str, str, Any]]:
    """(payload type, field, GraphQL field) for every field of a type reachable from a mutation's result (stopping
    at record types) that returns a record, a union of records, or a list of them."""
    schema = build_schema(Settings(env="test"))  # type: ignore[arg-type]
    graphql_schema = schema._schema
    assert graphql_schema.mutation_type is not None
    pending: list[Any] = [get_named_type(f.type) for f in graphql_schema.mutation_type.fields.values()]
    seen: set[str] = set()
    found: list[tuple[str, str, Any]] = []
    while pending:
        current = pending.pop()
        if current.name in seen or current.name in READ_PERMISSION:
            continue
        seen.add(current.name)
        if isinstance(current, GraphQLUnionType):
            pending.extend(current.types)
            continue
        if not isinstance(current, GraphQLObjectType):
            continue
        for name, field in current.fields.items():
            inner = get_named_type(field.type)
            members = inner.types if isinstance(inner, GraphQLUnionType) else [inner]
            if any(m.name in READ_PERMISSION for m in members):
                found.append((current.name, name, field))
            else:
                pending.append(inner)
    return found


def test_every_record_in_a_payload_is_read_checked_and_nullable() -> None:
    schema = build_schema(Settings(env="test"))  # type: ignore[arg-type]
    fields = _payload_record_fields()
    assert len(fields) >= 20  # the walk does reach the payloads
    assert ("SubmitReportSuccess", "case") in {(t, f) for t, f, _ in fields}
    for type_name, field_name, field in fields:
        definition = schema.get_type_by_name(type_name)
        assert definition is not None
        strawberry_field = next(
            f for f in definition.fields if f.graphql_name == field_name or _camel(f.name) == field_name
        )
        assert any(isinstance(e, ReadCheck) for e in strawberry_field.extensions), f"{type_name}.{field_name}"
        # a refused record is null (or left out of a list), so it must be allowed to be
        assert not isinstance(field.type, GraphQLNonNull) or isinstance(field.type.of_type, GraphQLList), (
            f"{type_name}.{field_name} is non-null"
        )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def test_a_trusted_flagger_does_not_read_the_case_through_submit_report(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    flagger = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "US")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    creator = await flows.account(gql, platform, "creator")
    video = await flows.content(gql, platform, creator, "video")

    reported = await flows.report(gql, flagger, video, hate, source="TRUSTED_FLAGGER")

    assert reported["report"]["id"]  # its own report: it may read it
    assert reported["case"] is None  # the case needs cases:read, as report.case does
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Report { case { id } } } }",
        {"id": reported["report"]["id"]},
        token=flagger,
    )
    assert body["data"]["node"]["case"] is None  # the same answer as the nested field


async def test_a_platform_token_does_not_read_the_ad_review_case(db_url: str, gql: GraphQLClient) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    moderator = await issue_staff_token(db_url, "moderator", "US")
    advertiser = await flows.account(gql, platform, "advertiser", kind="ADVERTISER")

    submitted = await flows.ad(gql, platform, advertiser, "ad-1")

    assert submitted["ad"]["id"]  # what it wrote comes back (ads:write)...
    assert submitted["case"] is None  # ...the review case does not (no cases:read)
    case = await flows.node(gql, moderator, submitted["ad"]["id"], "... on Ad { reviewCase { id } }")
    assert case is not None
    assert case["reviewCase"]["id"]  # the case exists: a reader with cases:read sees it
