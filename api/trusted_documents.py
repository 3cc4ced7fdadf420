"""Trusted documents on the request path and at registration.

A request names a registered document instead of sending its text, in any of the forms clients use:

- GraphQL-over-HTTP: ``{"documentId": "sha256:<hex>", "variables": ...}``
- Apollo: ``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}`` (with or without ``query``)
- Relay: ``{"id": "<hex>"}`` or ``{"doc_id": "<hex>"}``

The id is looked up once per process (documents never change, so a hit is cached for good) and the request runs
the stored text, so parsing, validation and cost are computed once per document and process (strawberry's parser
cache and the per-document validation and cost caches key on the same text). ``VIGIL_TRUSTED_DOCUMENTS`` says
whether text may be sent at all; a token pinned to documents may send only those.
"""

from __future__ import annotations

import contextvars
import uuid
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from graphql import GraphQLError, parse
from graphql.error import GraphQLSyntaxError

from domain.document import TrustedDocument, TrustedMode, document_id, normalise_id
from domain.errors import DomainError
from persistence import documents as store
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

CACHE_SIZE = 4096


class DocumentRefused(Exception):
    """The request's document cannot run: answered as a 4xx with a typed GraphQL error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Named:
    """What a request body named: a document id, the text it came with (Apollo may send both), and the form."""

    id: str
    text: str | None
    form: str


_named: contextvars.ContextVar[Named | None] = contextvars.ContextVar("vigil_named_document", default=None)
_trusted: contextvars.ContextVar[TrustedDocument | None] = contextvars.ContextVar("vigil_trusted", default=None)


def take_named(body: MutableMapping[str, Any]) -> None:
    """Find (and remove from the body) the document id a request names; remember it for ``resolve``. Called while
    the body is decoded, before strawberry reads ``query``."""
    _trusted.set(None)
    named = _named_in(body)
    _named.set(named)
    if named is not None and named.text is None:
        body.pop("query", None)


def _named_in(body: Mapping[str, Any]) -> Named | None:
    for key, form in (("documentId", "documentId"), ("doc_id", "doc_id"), ("id", "id")):
        if key in body:
            raw = body[key]
            if not isinstance(raw, str) or normalise_id(raw) is None:
                raise DocumentRefused(
                    400, "BAD_REQUEST", f"`{key}` must name a trusted document as `sha256:<64 hex digits>`"
                )
            return Named(normalise_id(raw) or "", _text(body), form)
    extensions = body.get("extensions")
    if isinstance(extensions, str):  # a GET request's extensions are decoded later; only the JSON object counts
        return None
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    if persisted is None:
        return None
    digest = persisted.get("sha256Hash") if isinstance(persisted, Mapping) else None
    if not isinstance(digest, str) or normalise_id(digest) is None:
        raise DocumentRefused(400, "BAD_REQUEST", "`extensions.persistedQuery.sha256Hash` must be 64 hex digits")
    return Named(normalise_id(digest) or "", _text(body), "persistedQuery")


def _text(body: Mapping[str, Any]) -> str | None:
    query = body.get("query")
    return query if isinstance(query, str) and query else None


def trusted_document() -> TrustedDocument | None:
    """The trusted document this request runs (None: ad-hoc text)."""
    return _trusted.get()


class DocumentRegistry:
    """Documents and token pins by id, read from the database once per process (neither ever changes)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._documents: OrderedDict[str, TrustedDocument] = OrderedDict()
        self._pins: OrderedDict[uuid.UUID, frozenset[str]] = OrderedDict()

    async def resolve(self, pool: asyncpg.Pool | None, mode: TrustedMode) -> str | None:
        """The text this request runs, when it named a document (None: it sent text only)."""
        named = _named.get()
        if named is None:
            return None
        if mode is TrustedMode.OFF:
            raise DocumentRefused(400, "TRUSTED_DOCUMENTS_OFF", "this server does not accept trusted documents")
        if named.text is not None and document_id(named.text) != named.id:
            raise DocumentRefused(400, "BAD_REQUEST", "the document id is not the SHA-256 of the query sent with it")
        document = await self.get(pool, named.id)
        if document is None:
            if named.text is not None:  # Apollo's automatic form: an unregistered text runs as ad-hoc text
                return named.text
            code = "PERSISTED_QUERY_NOT_FOUND" if named.form == "persistedQuery" else "DOCUMENT_NOT_FOUND"
            raise DocumentRefused(404 if code == "DOCUMENT_NOT_FOUND" else 400, code, f"no trusted document {named.id}")
        _trusted.set(document)
        return document.text

    async def get(self, pool: asyncpg.Pool | None, doc_id: str) -> TrustedDocument | None:
        hit = self._documents.get(doc_id)
        if hit is not None:
            self._documents.move_to_end(doc_id)
            return hit
        if pool is None:
            return None
        async with pool.acquire() as conn:
            document = await store.fetch(conn, doc_id)
        if document is not None:
            self._remember(self._documents, doc_id, document)
        return document

    async def pins(self, pool: asyncpg.Pool | None, token_id: uuid.UUID) -> frozenset[str]:
        hit = self._pins.get(token_id)
        if hit is not None:
            return hit
        if pool is None:
            return frozenset()
        async with pool.acquire() as conn:
            pins = await store.fetch_pins(conn, token_id)
        self._remember(self._pins, token_id, pins)
        return pins

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        if len(cache) > self.size:
            cache.popitem(last=False)

    async def admit(
        self,
        pool: asyncpg.Pool | None,
        mode: TrustedMode,
        *,
        token_id: str | None,
        may_send_text: bool,
    ) -> None:
        """Refuse the request when its document may not run: text where trusted documents are required, or
        anything but its own documents from a pinned token (``resolve`` refused named documents where they are
        off)."""
        document = _trusted.get()
        if token_id is not None:
            pins = await self.pins(pool, uuid.UUID(token_id))
            if pins and (document is None or document.id not in pins):
                what = "ad-hoc GraphQL text" if document is None else f"document {document.name!r}"
                raise DocumentRefused(
                    403, "DOCUMENT_NOT_ALLOWED", f"this token may send only its trusted documents, not {what}"
                )
        if document is None and mode is TrustedMode.REQUIRED and not may_send_text:
            raise DocumentRefused(
                400,
                "TRUSTED_DOCUMENT_REQUIRED",
                "this server runs trusted documents only: send `documentId` (register the operation first)",
            )


def check_document(validate: Any, document: TrustedDocument) -> None:
    """Refuse (``DomainError``, naming the document) a text that does not parse or validate against the schema:
    a document is checked once, when it is registered."""
    try:
        ast = parse(document.text)
    except GraphQLSyntaxError as error:
        raise DomainError.invalid_input(f"document {document.name!r} does not parse: {error.message}", "text") from None
    errors: Sequence[GraphQLError] = validate(ast)
    if errors:
        raise DomainError.invalid_input(
            f"document {document.name!r} does not validate: {errors[0].message}", "text"
        ) from None


DOCUMENT = RecordKind("TrustedDocument")


async def register(
    uow: SqlUnitOfWork, schema: Any, documents: Sequence[TrustedDocument], now: datetime
) -> tuple[list[TrustedDocument], int]:
    """Check every document against ``schema`` (a strawberry schema built by ``build_schema``), then store those
    not stored yet, each audited in the same transaction. All or none: one bad document refuses the batch.
    Returns every document of the batch as stored (a stored id keeps its first name) and how many were new."""
    for document in documents:
        check_document(schema.validate_document, document)
    new = await store.store_new(uow.session, documents, at=now, by=uow.audit.actor_id)
    unique = list({d.id: d for d in documents}.values())
    for document in unique:
        if document.id in new:
            uow.record(
                DOCUMENT,
                Subject(document.id),
                action="document.registered",
                after={"name": document.name, "documentId": document.id, "length": len(document.text)},
                at=now,
            )
    stored = await store.stored(uow.session, [d.id for d in unique])
    return [stored[d.id] for d in unique], len(new)
