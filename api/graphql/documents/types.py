"""A trusted document as the API shows it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.ids import to_global_id
from domain.document import TrustedDocument as Document


@strawberry.type(description="A GraphQL document registered ahead of time: requests name it by `documentId`.")
class TrustedDocument:
    id: strawberry.ID
    document_id: str = strawberry.field(description="`sha256:` and the hex SHA-256 of the text: what requests send.")
    name: str = strawberry.field(description="Its operation's name (or the file's); several texts may share one.")
    text: str
    registered_at: datetime | None
    registered_by: str | None
    entity: strawberry.Private[Document]

    @classmethod
    def of(cls, document: Document) -> TrustedDocument:
        return cls(
            id=strawberry.ID(to_global_id("TrustedDocument", document.id)),
            document_id=document.id,
            name=document.name,
            text=document.text,
            registered_at=document.registered_at,
            registered_by=document.registered_by,
            entity=document,
        )
