"""Deny by default, proven from the schema itself: every root field declares its permission, and an auditor
(read-only, every region) is refused every mutation, with nothing written but the record of the refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from api.graphql.ids import to_global_id
from api.graphql.permissions import declared_permission
from api.graphql.schema import build_schema
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token, row_counts

SCHEMA = build_schema()
MUTATION_FIELDS = sorted(SCHEMA._schema.mutation_type.fields) if SCHEMA._schema.mutation_type else []
SCALAR_SAMPLES: dict[str, Any] = {
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2030-01-01T00:00:00+00:00",
    "Date": "2030-01-01",
    "Time": "12:00:00",
    "UUID": "00000000-0000-4000-8000-000000000000",
    "JSON": {},
    "Decimal": "1",
    "BigInt": "1",
}


def _root_fields(type_name: str) -> list[Any]:
    definition = SCHEMA.get_type_by_name(type_name)
    assert definition is not None, type_name
    return list(definition.fields)  # type: ignore[union-attr]


def test_the_schema_has_query_and_mutation_fields() -> None:
    assert _root_fields("Query")
    assert MUTATION_FIELDS


@pytest.mark.parametrize("root", ["Query", "Mutation"])
def test_every_root_field_declares_its_permission(root: str) -> None:
    undeclared = sorted(f.name for f in _root_fields(root) if declared_permission(f) is False)
    assert undeclared == [], f"{root} fields without requires(...) or public(): {undeclared}"


def test_only_viewer_is_public() -> None:
    public = sorted(f.name for f in _root_fields("Query") + _root_fields("Mutation") if declared_permission(f) is None)
    assert public == ["viewer"]


def sample(type_: GraphQLInputType) -> Any:
    """A valid value of an input type: required fields only, the smallest thing the validator accepts."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return []
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: sample(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(type_, GraphQLScalarType)
    if type_.name == "ID":
        return to_global_id("Thing", uuid.uuid4())
    return SCALAR_SAMPLES.get(type_.name, "x")


def mutation_document(name: str) -> tuple[str, dict[str, Any]]:
    """`mutation M($input: XInput!) { x(input: $input) { __typename } }` with values for every required arg."""
    field = SCHEMA._schema.mutation_type.fields[name]  # type: ignore[union-attr]
    required = {arg: a for arg, a in field.args.items() if isinstance(a.type, GraphQLNonNull)}
    declarations = ", ".join(f"${arg}: {a.type}" for arg, a in required.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in required)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    head = f"mutation Attempt({declarations})" if declarations else "mutation Attempt"
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call}{selection} }}", {arg: sample(a.type) for arg, a in required.items()}


@pytest.mark.parametrize("name", MUTATION_FIELDS)
async def test_an_auditor_is_refused_every_mutation(db_url: str, gql: GraphQLClient, name: str) -> None:
    auditor = await issue_staff_token(db_url, "auditor", "*")
    before = await row_counts(db_url)
    document, variables = mutation_document(name)

    body = await gql(document, variables, token=auditor)

    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (document, variables, body)
    assert body["data"] is None
    after = await row_counts(db_url)
    assert after == {**before, "audit_events": before["audit_events"] + 1}  # the refusal's own record, only
