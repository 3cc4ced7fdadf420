"""Request-level GraphQL errors (authentication, authorization) and the rule deciding what a client may see.

Business failures are *not* raised: mutations return them as typed members of their result union
(see ``api.graphql.shared.common``). What is raised here aborts a field with an error carrying
``extensions.code``; anything else unexpected is masked to "Unexpected error." by `should_mask_error`.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class VigilGraphQLError(GraphQLError):
    """An error that is safe to show: a stable code in ``extensions.code`` and a message written for clients."""

    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class Unauthenticated(VigilGraphQLError):
    code = "UNAUTHENTICATED"


class Forbidden(VigilGraphQLError):
    code = "FORBIDDEN"


class BadRequest(VigilGraphQLError):
    code = "BAD_REQUEST"


def should_mask_error(error: GraphQLError) -> bool:
    """Mask everything that did not come from us on purpose; keep validation, syntax and variable errors readable."""
    original = error.original_error
    if original is None:
        return False  # parse / validation errors produced by graphql-core itself
    if error.path is None and error.message.startswith("Variable '$"):
        return False  # variable coercion: the client's own value was refused (it may wrap a scalar's parse error)
    if isinstance(original, GraphQLError):
        return not (original.extensions or {}).get("code")
    return True
