"""What a request may ask for, checked on the parsed document before any resolver runs. One concern a module:

- ``directives``, ``shape``: linear pre-checks, each refusing with ONE error (QUERY_TOO_COMPLEX, ...): directive
  count and unknown or repeated directives; fields, aliases and depth with fragments spread out (memoised, so a
  fragment spread twice per level is counted, not walked), and the pairs graphql-core's overlap rule compares.
- ``validator``: those, then graphql-core's rules, cached per parsed document (``cache``).
- ``characters``: string literals and variables PostgreSQL cannot store.
- ``json_values``: request bodies decoded (orjson where it agrees with the standard library) and their depth.
- ``cost``, ``lists``: the operation's cost, every list counted at its maximum (``lists.LIST_SIZES``).
- ``extension``: the schema extension applying them; above ``Settings.max_query_cost`` an operation is refused
  with QUERY_TOO_COSTLY; the figure is returned in ``extensions.cost`` when the request's ``extensions`` carry
  ``"cost": true``.
The execution deadline (TIMEOUT, checked between fields) is in ``api.graphql.execution``.
"""

from api.graphql.limits.cache import DocumentCache
from api.graphql.limits.characters import (
    SHOWN_PREFIX,
    InvalidInput,
    clip,
    literal_characters_rule,
    unstorable,
    unstorable_variable,
)
from api.graphql.limits.cost import (
    INTROSPECTION_MAX_COST,
    CostEstimator,
    cost_variables,
    introspection_max_cost,
    introspection_sizes,
    operation_cost,
)
from api.graphql.limits.directives import count_directives, directive_error
from api.graphql.limits.extension import RequestLimits
from api.graphql.limits.lists import (
    DEFAULT_LIST_SIZE,
    LIST_SIZES,
    MAX_NODES,
    MAX_PAGE,
    TYPE_LIST_SIZES,
    ListSize,
    declared_size,
)
from api.graphql.limits.shape import (
    INTROSPECTION_MAX_DEPTH,
    INTROSPECTION_ROOTS,
    ShapeLimits,
    shape_error,
)
from api.graphql.limits.validator import Validator

__all__ = [
    "DEFAULT_LIST_SIZE",
    "INTROSPECTION_MAX_COST",
    "INTROSPECTION_MAX_DEPTH",
    "INTROSPECTION_ROOTS",
    "LIST_SIZES",
    "MAX_NODES",
    "MAX_PAGE",
    "SHOWN_PREFIX",
    "TYPE_LIST_SIZES",
    "CostEstimator",
    "DocumentCache",
    "InvalidInput",
    "ListSize",
    "RequestLimits",
    "ShapeLimits",
    "Validator",
    "clip",
    "cost_variables",
    "count_directives",
    "declared_size",
    "directive_error",
    "introspection_max_cost",
    "introspection_sizes",
    "literal_characters_rule",
    "operation_cost",
    "shape_error",
    "unstorable",
    "unstorable_variable",
]
