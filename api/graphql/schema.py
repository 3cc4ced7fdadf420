"""Builds the strawberry Schema. The SDL does not depend on settings; only the guards around it do."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from api.graphql.errors import should_mask_error
from api.graphql.extensions import OperationLog
from api.graphql.root import Mutation, Query
from api.graphql.types.registry import ALL_TYPES
from api.settings import Settings


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaskErrors(should_mask_error=should_mask_error),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        OperationLog,
    ]
    if settings.production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=ALL_TYPES,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.production, relay_max_results=100),
    )


def export_sdl() -> str:
    """The schema as committed in `schema.graphql`."""
    return build_schema(Settings(env="test")).as_str() + "\n"  # type: ignore[arg-type]
