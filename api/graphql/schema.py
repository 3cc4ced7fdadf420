"""Builds the strawberry Schema. The SDL does not depend on settings; only the guards around it do."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from api.graphql.errors import should_mask_error
from api.graphql.extensions import OperationLog
from api.graphql.root import Mutation, Query
from api.graphql.types.registry import ALL_TYPES
from api.settings import Settings


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The validation rules are classes built once here: the validation cache is keyed by the rule classes, so
    # rules built per request (as strawberry's limiter extensions do) would never let it hit.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth, None),
        alias_rule(settings.max_aliases),
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaskErrors(should_mask_error=should_mask_error),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        OperationLog,
    ]
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
