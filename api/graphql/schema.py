"""Builds the strawberry Schema. The SDL does not depend on settings; only the guards around it do."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule, specified_rules
from strawberry.extensions import MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from api.graphql.context import Context
from api.graphql.errors import should_mask_error
from api.graphql.execution import execution_context_for, install_direct_resolvers
from api.graphql.extensions import ExtensionsRunner, MaskErrors, OperationLog
from api.graphql.inputs import install_input_builders
from api.graphql.internals import ContextKwargsHook, core_schema
from api.graphql.limits import (
    DocumentCache,
    RequestLimits,
    ShapeLimits,
    Validator,
    literal_characters_rule,
)
from api.graphql.nodes import ALL_TYPES
from api.graphql.payloads import guard_payloads
from api.graphql.root import Mutation, Query
from api.outage import database_unavailable
from api.settings import Settings

log = logging.getLogger("vigil.graphql")

MAX_VALIDATION_ERRORS = 10
"""A hostile document gets at most this many validation errors back (graphql-core then stops)."""


class VigilSchema(ContextKwargsHook):
    """Logs client errors as one INFO line per operation and real faults with their traceback; hides schema
    suggestions from variable errors in production; flags a database outage on the request's context."""

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.validate_document: Callable[[Any], list[GraphQLError]] | None = None
        """Validation with every rule, cached per parsed document (`cache_info()` shows the hits)."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def context_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.settings.production:
            kwargs["hide_suggestions"] = True
        return kwargs

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = execution_context.context if execution_context is not None else None
        client: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            if original is not None and database_unavailable(original):
                if isinstance(context, Context):
                    context.database_unavailable = original
                continue
            if should_mask_error(error):
                fault = original if original is not None else error
                log.error(
                    "unexpected error in %s",
                    ".".join(str(p) for p in error.path or ()) or "the operation",
                    exc_info=(type(fault), fault, fault.__traceback__),
                )
            else:
                client.append(error)
        if client:
            codes = sorted({str((e.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")) for e in client})
            # codes only: a message may quote the client's input (personal data)
            log.info("graphql client error", extra={"error_codes": codes, "error_count": len(client)})


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    assert Mutation is not None
    guard_payloads(Mutation)
    # The validation rules are classes built once here and validation is cached per parsed document: rules built
    # per request (as strawberry's limiter extensions do) would never let a cache hit. Depth and aliases are
    # checked by the Validator's linear shape check, before these run.
    rules: list[type[ASTValidationRule]] = [
        *specified_rules,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
        literal_characters_rule(),
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    schema = VigilSchema(
        query=Query,
        mutation=Mutation,
        types=ALL_TYPES,
        config=StrawberryConfig(disable_field_suggestions=settings.production, relay_max_results=100),
        settings=settings,
    )
    validate_document = Validator(
        core_schema(schema),
        tuple(rules),
        hide_suggestions=settings.production,
        max_errors=MAX_VALIDATION_ERRORS,
        max_directives=settings.max_directives,
        shape=ShapeLimits(
            max_selections=settings.max_tokens, max_aliases=settings.max_aliases, max_depth=settings.max_query_depth
        ),
    )
    schema.validate_document = validate_document
    costs: DocumentCache[tuple[int, int]] = DocumentCache()
    install_direct_resolvers(schema)
    install_input_builders(schema)
    schema.execution_context_class = execution_context_for(core_schema(schema), timeout=settings.execution_timeout)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaskErrors(should_mask_error=should_mask_error),
        lambda: ParserCache(maxsize=256),
        lambda: RequestLimits(
            validate_document=validate_document,
            max_cost=settings.max_query_cost,
            max_json_depth=settings.max_json_depth,
            costs=costs,
        ),
        OperationLog,
    ]
    schema.extensions = tuple(extensions)
    return schema


def export_sdl() -> str:
    """The schema as committed in `schema.graphql`."""
    return build_schema(Settings(env="test")).as_str() + "\n"  # type: ignore[arg-type]
