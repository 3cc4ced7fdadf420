"""Root connections of records: which regions a reader's page covers, filter IDs, and the page itself.

Visibility is decided in SQL: the regions where the principal holds the type's read permission become
`region IN (...)`; a record elsewhere is absent from lists and `node(id)` answers null, as if it did not exist."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

import strawberry
from orjson import Fragment

from api.graphql.context import Context, Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id
from api.graphql.shared.build import view
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.visibility import own_reporter_id
from authz.permissions import Permission
from domain.errors import DomainError
from domain.region import Region
from persistence.pagination import Page
from persistence.queries import filters as q
from persistence.queries import listing, reads


def visible_regions(context: Context, permission: Permission, wanted: Region | None) -> frozenset[str] | None:
    regions = context.permissions.regions(permission)
    if wanted is None:
        return regions
    if regions is None or wanted.value in regions:
        return frozenset({wanted.value})
    return frozenset()


def optional_id(global_id: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return None if global_id is None else parse_id(global_id, type_name, field=field)


def bad_input(exc: DomainError) -> Exception:
    return BadRequest(exc.message, field=exc.field)


@contextlib.contextmanager
def input_errors() -> Iterator[None]:
    """An id that does not parse is the client's mistake: BAD_REQUEST naming the field."""
    try:
        yield
    except DomainError as exc:
        raise bad_input(exc) from exc


def source(info: Info) -> listing.Source:
    """Where the field's page is read; with the rendering the compiled plan made for this field, if any
    (``api.graphql.compiler.render``)."""
    context = info.context
    renders = context.renders
    if renders:
        found = renders.get(id(info._raw_info.field_nodes[0]))
        if found is not None:
            arguments = found.arguments(context.permissions, own_reporter_id(context), info._raw_info.variable_values)
            if arguments is not None:
                rendering = reads.Rendering(found.table, found.expression, arguments)
                return listing.Source(context.pool, context.sessions, rendering)
    return listing.Source(context.pool, context.sessions)


def page_request(
    info: Info, permission: Permission, region: Region | None, first: int, after: str | None
) -> q.PageRequest:
    return q.PageRequest(first=first, after=after, regions=visible_regions(info.context, permission, region))


async def page_of(
    info: Info,
    node_type: type[Any],
    pending: Awaitable[Page[Any]],
    *,
    look_ahead: Callable[[Info, list[Any]], Awaitable[None]] | None = None,
) -> Connection[Any]:
    """The page as a connection of ``node_type``; ``look_ahead`` loads the relations its selection names."""
    try:
        page = await pending
    except DomainError as exc:  # a cursor that is not ours, a page size out of range
        raise bad_input(exc) from exc
    rendered = page.rendered
    if rendered is not None and None not in rendered:  # each node's JSON, spliced into the response as it is
        nodes: list[Any] = [Fragment(text) for text in cast(list[str], rendered)]
    else:
        if look_ahead is not None:
            await look_ahead(info, page.items)
        nodes = [view(node_type, e) for e in page.items]
    return connection(type(page)(nodes, page.cursors, page.has_next, page.has_previous))
