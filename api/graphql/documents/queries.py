"""`trustedDocuments`: the registered documents, newest first."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.documents.types import TrustedDocument
from api.graphql.errors import BadRequest
from api.graphql.permissions import requires
from api.graphql.shared.common import Connection, connection
from authz.permissions import Permission
from domain.errors import DomainError
from persistence.documents import listing
from persistence.pagination import Page


@strawberry.type
class DocumentQuery:
    @strawberry.field(
        extensions=requires(Permission.DOCUMENTS_READ),
        description="Trusted documents, newest first (optionally the versions of one name).",
    )
    async def trusted_documents(
        self, info: Info, first: int = 20, after: str | None = None, name: str | None = None
    ) -> Connection[TrustedDocument] | None:
        try:
            async with info.context.sessions() as session:
                page = await listing(session, first=first, after=after, name=name)
        except DomainError as error:  # a bad `first` or `after`: a request error
            raise BadRequest(error.message, field=error.field) from error
        return connection(
            Page[TrustedDocument](
                items=[TrustedDocument.of(d) for d in page.items],
                cursors=page.cursors,
                has_next=page.has_next,
                has_previous=page.has_previous,
            )
        )
