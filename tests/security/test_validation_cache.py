"""The validation rules (depth, aliases, directives, characters, introspection) are built once per schema, so
validation is cached per document: a repeated query is validated once."""

from __future__ import annotations

from api.graphql.limits import Validator
from api.graphql.schema import VigilSchema, build_schema
from api.settings import Settings


async def test_a_repeated_query_is_validated_once() -> None:
    schema = build_schema(Settings(env="production"))  # type: ignore[arg-type]
    assert isinstance(schema, VigilSchema)
    validate = schema.validate_document
    assert isinstance(validate, Validator)
    before = (validate.cache.misses, validate.cache.hits)
    for _ in range(3):
        result = await schema.execute("query Repeated { __typename }")
        assert result.errors is None
    assert (validate.cache.misses - before[0], validate.cache.hits - before[1]) == (1, 2)
