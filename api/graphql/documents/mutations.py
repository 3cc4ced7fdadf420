"""`registerTrustedDocuments`: store operations by the hash of their text, each checked against the schema once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.documents.types import TrustedDocument
from api.graphql.permissions import requires
from api.graphql.runner import run
from api.graphql.shared.common import MutationError
from api.trusted_documents import register
from authz.permissions import Permission
from domain.actor import Actor
from domain.document import MAX_BATCH, new_document, operation_name
from domain.errors import DomainError
from persistence.repositories import PostgresUnitOfWork


@strawberry.input(description="One operation's text and its name (default: the text's first operation name).")
class TrustedDocumentInput:
    text: str
    name: str | None = None


@strawberry.input
class RegisterTrustedDocumentsInput:
    documents: list[TrustedDocumentInput] = strawberry.field(description=f"At most {MAX_BATCH}.")


@strawberry.type(description="Every document of the input, stored now or already (a document never changes).")
class RegisterTrustedDocumentsSuccess:
    documents: list[TrustedDocument]
    registered: int = strawberry.field(description="How many were new.")


RegisterTrustedDocumentsResult = Annotated[
    RegisterTrustedDocumentsSuccess | MutationError, strawberry.union("RegisterTrustedDocumentsResult")
]


@strawberry.type
class DocumentMutation:
    @strawberry.mutation(
        extensions=requires(Permission.DOCUMENTS_REGISTER),
        description="Register trusted documents (all or none): each must parse and validate against the schema.",
    )
    async def register_trusted_documents(
        self, info: Info, input: RegisterTrustedDocumentsInput
    ) -> RegisterTrustedDocumentsResult:
        schema = info.schema

        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RegisterTrustedDocumentsSuccess:
            if not input.documents or len(input.documents) > MAX_BATCH:
                raise DomainError.invalid_input(f"send 1 to {MAX_BATCH} documents", "documents")
            documents = [
                new_document(d.name or operation_name(d.text) or f"document-{i + 1}", d.text)
                for i, d in enumerate(input.documents)
            ]
            stored, new = await register(uow, schema, documents, datetime.now(UTC))
            return RegisterTrustedDocumentsSuccess(documents=[TrustedDocument.of(d) for d in stored], registered=new)

        return await run(info, "registerTrustedDocuments", Permission.DOCUMENTS_REGISTER, command)
