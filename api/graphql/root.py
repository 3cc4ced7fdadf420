"""The root Query and Mutation types, merged from one partial type per area (each area owns its module)."""

from __future__ import annotations

from strawberry.tools import merge_types

from api.graphql.viewer import ViewerQuery

QUERIES: tuple[type, ...] = (ViewerQuery,)
MUTATIONS: tuple[type, ...] = ()

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
