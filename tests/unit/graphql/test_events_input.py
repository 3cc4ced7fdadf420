"""``submitEvents``' input is built by its own hook in one pass: the same values strawberry's generic conversion
builds, from what graphql-core coerced (enums as members, ``DateTime`` as a datetime, ``JSON`` as sent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLNonNull
from graphql.utilities import coerce_input_value
from strawberry.types.arguments import convert_argument

from api.graphql.schema import build_schema
from domain.region import Region

ITEMS: list[dict[str, Any]] = [
    {
        "type": "content.posted",
        "region": "EU",
        "entities": [{"kind": "ACCOUNT", "externalId": "u-1"}, {"kind": "CONTENT", "externalId": "c-1"}],
        "occurredAt": "2026-12-06T09:00:00+01:00",
        "idempotencyKey": "k-1",
        "attributes": {"text": "free coins", "urls": ["https://x.example"], "n": 1.5, "nested": {"a": None}},
    },
    {  # attributes omitted, then null
        "type": "account.login",
        "region": "US",
        "entities": [{"kind": "ACCOUNT", "externalId": "u-2"}],
        "occurredAt": "2026-12-06T08:00:00Z",
        "idempotencyKey": "k-2",
    },
    {
        "type": "ad.submitted",
        "region": "APAC",
        "entities": [],
        "occurredAt": "2026-12-06T08:00:00Z",
        "idempotencyKey": "k-3",
        "attributes": None,
    },
]


def _coerced() -> tuple[dict[str, Any], Any]:
    schema = build_schema()
    input_type = schema._schema.get_type("SubmitEventsInput")
    assert isinstance(input_type, GraphQLInputObjectType)
    value = coerce_input_value({"events": ITEMS}, GraphQLNonNull(input_type))
    return value, schema


def test_the_hook_builds_what_the_generic_conversion_builds() -> None:
    value, schema = _coerced()
    # imported once the schema is built: the domain's enums are registered with strawberry by the schema's modules
    from api.graphql.events.mutations import EventEntityKind, SubmitEventsInput

    registry, config = schema.schema_converter.scalar_registry, schema.config
    definition = SubmitEventsInput.__strawberry_definition__  # type: ignore[attr-defined]
    hooked = convert_argument(value, SubmitEventsInput, registry, config)
    hook, definition.from_input = definition.from_input, None
    try:
        generic = convert_argument(value, SubmitEventsInput, registry, config)
    finally:
        definition.from_input = hook
    assert hook is not None
    assert hooked == generic
    first, second, third = hooked.events  # type: ignore[attr-defined]
    assert first.region is Region.EU
    assert [e.kind for e in first.entities] == [EventEntityKind.ACCOUNT, EventEntityKind.CONTENT]
    assert first.occurred_at == datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    assert first.attributes == ITEMS[0]["attributes"]
    assert second.attributes is None
    assert third.attributes is None
    assert third.entities == []
