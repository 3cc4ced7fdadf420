"""Shared GraphQL building blocks: Relay connections, the error types mutation results carry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar, cast

import strawberry

from api.graphql.shared.build import NOT_AWAITABLE
from domain.errors import DomainError, ErrorCode
from persistence.pagination import Page

NodeT = TypeVar("NodeT")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def _cursor(root: Edge[Any]) -> str:
    """An edge's cursor, written when asked for: a page that shows its nodes asks for its last one only
    (``pageInfo``)."""
    return root.cursors[root.index]


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(resolver=_cursor)
    node: NodeT
    cursors: strawberry.Private[Sequence[str]]
    index: strawberry.Private[int]


def _edges(root: Connection[Any]) -> list[Edge[Any]]:
    """A page's edges, made when asked for: a page that shows its nodes makes none."""
    cursors = root.cursors
    return [Edge(node=n, cursors=cursors, index=i) for i, n in enumerate(root.items)]


@strawberry.type(description="A page of results; pass `pageInfo.endCursor` as `after` for the next one.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(resolver=_edges)
    page_info: PageInfo
    items: strawberry.Private[list[NodeT]]
    cursors: strawberry.Private[Sequence[str]]

    @strawberry.field(description="The page's nodes, without cursors.")
    def nodes(self) -> list[NodeT]:
        return self.items


NOT_AWAITABLE.update({Edge, Connection, PageInfo})


def connection(page: Page[NodeT]) -> Connection[NodeT]:
    cursors = page.cursors
    if len(cursors) != len(page.items):
        raise ValueError(f"a page of {len(page.items)} items with {len(cursors)} cursors")
    return Connection(
        items=page.items,
        cursors=cursors,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )


@strawberry.interface(description="A business error returned as a member of a mutation's result union.")
class Error:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(description="The input field at fault, when one is.")


@strawberry.type(description="The referenced record does not exist (or is outside your regions).")
class NotFoundError(Error):
    pass


@strawberry.type(description="The input is malformed: empty, too long, wrong ID type, out of range.")
class InvalidInputError(Error):
    pass


@strawberry.type(description="The record is not in a state that allows this (e.g. deciding a decided case).")
class InvalidStateError(Error):
    pass


@strawberry.type(description="Someone else changed the record first, or it would be a duplicate.")
class ConflictError(Error):
    pass


@strawberry.type(description="A rule forbids this actor from doing this (e.g. deciding one's own appeal).")
class ForbiddenError(Error):
    pass


ERROR_TYPES: dict[ErrorCode, type[Error]] = {
    ErrorCode.NOT_FOUND: NotFoundError,
    ErrorCode.INVALID_INPUT: InvalidInputError,
    ErrorCode.INVALID_STATE: InvalidStateError,
    ErrorCode.CONFLICT: ConflictError,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: ConflictError,
    ErrorCode.FORBIDDEN: ForbiddenError,
}


MutationError = NotFoundError | InvalidInputError | InvalidStateError | ConflictError | ForbiddenError


def error_from(exc: DomainError) -> MutationError:
    cls = ERROR_TYPES[exc.code]
    return cast(MutationError, cls(code=exc.code, message=exc.message, field=exc.field))
