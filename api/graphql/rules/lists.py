"""Named lists for rules: `createNamedList`, `editNamedList` (a new version), `namedLists`, `namedListEntries`."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_any, parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.runner import require_region, run
from api.graphql.shared.common import Connection, MutationError, connection
from api.graphql.shared.listing import visible_regions
from api.graphql.shared.node import Node
from authz.permissions import Permission
from domain.actor import Actor
from domain.errors import DomainError
from domain.region import Region
from domain.rules import ListKind
from domain.services.named_lists import NamedList as NamedListEntity
from domain.services.named_lists import create_list, edit_list
from persistence.named_lists import SqlListStore, entries_page, list_by_id, list_page
from persistence.pagination import Page, check_first
from persistence.repositories import PostgresUnitOfWork


@strawberry.enum(description="KEYWORD: words or phrases; DOMAIN: host names (and subdomains); URL: host/path.")
class NamedListKind(Enum):
    KEYWORD = "keyword"
    DOMAIN = "domain"
    URL = "url"


@strawberry.type(description="A named list rules match against, at its version in force.")
class NamedList(Node):
    entity: strawberry.Private[NamedListEntity]
    region: Region
    name: str
    kind: NamedListKind
    current_version: int
    entry_count: int
    created_at: datetime
    updated_at: datetime


def named_list_of(entity: NamedListEntity) -> NamedList:
    return NamedList(
        id=strawberry.ID(to_global_id("NamedList", entity.id)),
        entity=entity,
        region=entity.region,
        name=entity.name,
        kind=NamedListKind(entity.kind.value),
        current_version=entity.current_version,
        entry_count=entity.entry_count,
        created_at=entity.created_at,
        updated_at=entity.updated_at,
    )


@strawberry.input(description="A new list of a region, version 1.")
class CreateNamedListInput:
    region: Region
    name: str
    kind: NamedListKind
    entries: list[str] = strawberry.field(description="At most 50,000 per call; a list holds up to 1,000,000.")


@strawberry.input(description="A new version: `remove` taken out, `add` put in (at most 50,000 each).")
class EditNamedListInput:
    list_id: strawberry.ID
    add: list[str] = strawberry.field(default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class NamedListSuccess:
    named_list: NamedList
    added: int
    removed: int


NamedListResult = Annotated[NamedListSuccess | MutationError, strawberry.union("NamedListResult")]


@strawberry.type
class NamedListMutation:
    @strawberry.mutation(extensions=requires(Permission.RULES_WRITE), description="A new named list.")
    async def create_named_list(self, info: Info, input: CreateNamedListInput) -> NamedListResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> NamedListSuccess:
            require_region(info.context, Permission.RULES_WRITE, input.region.value)
            named = await create_list(
                SqlListStore(uow),
                region=input.region,
                name=input.name,
                kind=ListKind(input.kind.value),
                entries=input.entries,
                author_id=actor.id,
                now=datetime.now(UTC),
            )
            return NamedListSuccess(named_list=named_list_of(named), added=named.entry_count, removed=0)

        return await run(info, "createNamedList", Permission.RULES_WRITE, command)

    @strawberry.mutation(extensions=requires(Permission.RULES_WRITE), description="Edit a list: a new version.")
    async def edit_named_list(self, info: Info, input: EditNamedListInput) -> NamedListResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> NamedListSuccess:
            named, edit = await edit_list(
                SqlListStore(uow),
                list_id=parse_id(input.list_id, "NamedList", field="listId"),
                add=input.add,
                remove=input.remove,
                author_id=actor.id,
                now=datetime.now(UTC),
            )
            return NamedListSuccess(named_list=named_list_of(named), added=len(edit.added), removed=len(edit.removed))

        return await run(info, "editNamedList", Permission.RULES_WRITE, command)


@strawberry.type
class NamedListQuery:
    @strawberry.field(extensions=requires(Permission.RULES_READ), description="Named lists, newest first.")
    async def named_lists(
        self, info: Info, first: int = 50, after: str | None = None, region: Region | None = None
    ) -> Connection[NamedList] | None:
        regions = visible_regions(info.context, Permission.RULES_READ, region)
        try:
            async with info.context.sessions() as session:
                page = await list_page(session, regions=regions, first=first, after=after)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        items = [named_list_of(n) for n in page.items]
        return connection(Page(items, page.cursors, page.has_next, page.has_previous))

    @strawberry.field(
        extensions=requires(Permission.RULES_READ),
        description="A list's current entries in order; `after` is the last entry of the previous page.",
    )
    async def named_list_entries(
        self, info: Info, list_id: strawberry.ID, first: int = 100, after: str | None = None
    ) -> list[str] | None:
        parsed = parse_any(list_id)
        if parsed is None or parsed[0] != "NamedList":
            return None
        try:
            check_first(first)
            async with info.context.sessions() as session:
                named = await list_by_id(session, parse_id(list_id, "NamedList", field="listId"))
                if named is None or not info.context.permissions.allows(Permission.RULES_READ, named.region.value):
                    return None
                return (await entries_page(session, named, first=first, after=after)).items
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
