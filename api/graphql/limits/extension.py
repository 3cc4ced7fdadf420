"""The schema extension applying the limits: validation (cached per document), then before execution the
variables' characters and the cost (cached per document and the variables it depends on)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

from api.graphql.internals import core_schema
from api.graphql.limits.cache import DocumentCache
from api.graphql.limits.characters import unstorable_variable
from api.graphql.limits.cost import cost_variables, introspection_max_cost, operation_cost


class RequestLimits(SchemaExtension):
    """Validation (cached, rules built once), then before execution: variables' characters and the cost."""

    def __init__(
        self,
        *,
        validate_document: Callable[[DocumentNode], list[GraphQLError]],
        max_cost: int,
        max_json_depth: int,
        costs: DocumentCache[tuple[int, int]] | None = None,
    ) -> None:
        self.validate_document = validate_document
        self.max_cost = max_cost
        self.max_json_depth = max_json_depth
        self.costs = costs if costs is not None else DocumentCache()
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = list(self.validate_document(context.graphql_document))
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        problem = unstorable_variable(context.variables, self.max_json_depth)
        if problem is not None:
            raise problem
        assert context.graphql_document is not None
        schema, document, name, variables = (
            core_schema(context.schema),
            context.graphql_document,
            context.operation_name,
            context.variables,
        )

        def both() -> tuple[int, int]:
            return (
                operation_cost(schema, document, name, variables),
                operation_cost(schema, document, name, variables, introspection=True),
            )

        self.cost, introspection = self.costs.get(document, (name, cost_variables(variables)), both)
        budget = introspection_max_cost(schema) if introspection else 0
        if introspection > budget:
            raise GraphQLError(
                f"the introspection costs {introspection}, above its limit of {budget}",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": introspection, "maxCost": budget},
            )
        if self.cost > self.max_cost:
            raise GraphQLError(
                f"the operation costs {self.cost}, above the limit of {self.max_cost}: ask for smaller pages "
                "(`first`) or fewer nested lists",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": self.cost, "maxCost": self.max_cost},
            )
        yield

    def get_results(self) -> dict[str, Any]:
        asked = (self.execution_context.operation_extensions or {}).get("cost") is True
        if asked and self.cost is not None:
            return {"cost": {"requested": self.cost, "maximum": self.max_cost}}
        return {}
