"""The role × permission × region matrix of `authz/policy.csv`, exercised through GraphQL on a real database.

For every role, held in US: each root field answers FORBIDDEN exactly when the role lacks every permission the
field declares (expected values come from the real Casbin policy, the requests from the schema), and the list
fields it may read show US records and never EU ones.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLNonNull, get_named_type, is_leaf_type

from api.graphql.permissions import declared_permission
from api.graphql.shared.visibility import READ_PERMISSION
from authz.enforcer import Authorizer
from authz.principal import Principal
from authz.roles import Role
from tests.integration.authz.test_schema_permissions import SCHEMA, mutation_document, sample
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

AUTHORIZER = Authorizer()
QUERY_FIELDS = SCHEMA._schema.query_type.fields  # type: ignore[union-attr]
LISTS = {"accounts": "Account", "contentItems": "Content", "cases": "Case", "reports": "Report"}


def query_document(name: str) -> tuple[str, dict[str, Any]]:
    field = QUERY_FIELDS[name]
    required = {arg: a for arg, a in field.args.items() if isinstance(a.type, GraphQLNonNull)}
    declarations = ", ".join(f"${arg}: {a.type}" for arg, a in required.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in required)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    head = f"query Attempt({declarations})" if declarations else "query Attempt"
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call}{selection} }}", {arg: sample(a.type) for arg, a in required.items()}


def expected_forbidden(role: Role, fields: dict[str, Any]) -> set[str]:
    permissions = AUTHORIZER.permission_map(Principal.staff("matrix", "matrix", frozenset({(role.value, "US")})))
    forbidden = set()
    for name, field in fields.items():
        declared = declared_permission(field.extensions.get("strawberry-definition"))
        if declared and not any(permissions.allows(p, "US") for p in declared):
            forbidden.add(name)
    return forbidden


def _codes(body: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code", "") for e in body.get("errors") or []}


@pytest.mark.parametrize("role", list(Role))
async def test_role_matrix_through_graphql(db_url: str, gql: GraphQLClient, role: Role) -> None:
    token = await issue_staff_token(db_url, role.value, "US")
    refused: set[str] = set()
    for name in QUERY_FIELDS:
        document, variables = query_document(name)
        refused |= {name} if "FORBIDDEN" in _codes(await gql(document, variables, token=token)) else set()
    assert refused == expected_forbidden(role, QUERY_FIELDS)

    mutation_fields = SCHEMA._schema.mutation_type.fields  # type: ignore[union-attr]
    refused = set()
    for name in mutation_fields:
        document, variables = mutation_document(name)
        refused |= {name} if "FORBIDDEN" in _codes(await gql(document, variables, token=token)) else set()
    assert refused == expected_forbidden(role, mutation_fields)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ANALYST])
async def test_a_us_role_sees_us_records_and_never_eu_ones(db_url: str, gql: GraphQLClient, role: Role) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    admin = await issue_staff_token(db_url, "admin", "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    for region in ("US", "EU"):
        creator = await flows.account(gql, platform, f"creator-{region}", region=region)
        video = await flows.content(gql, platform, creator, f"video-{region}")
        await flows.report(gql, platform, video, hate)
    token = await issue_staff_token(db_url, role.value, "US")
    permissions = AUTHORIZER.permission_map(Principal.staff("m", "m", frozenset({(role.value, "US")})))

    seen = {}
    for field in LISTS:
        body = await gql(f"{{ {field}(first: 100) {{ nodes {{ region }} }} }}", token=token)
        seen[field] = sorted({n["region"] for n in body["data"][field]["nodes"]}) if body["data"] else None
    readable = {f: ["US"] for f, t in LISTS.items() if permissions.allows(READ_PERMISSION[t])}
    assert {f: v for f, v in seen.items() if v is not None} == readable
