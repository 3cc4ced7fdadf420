"""Trusted documents: GraphQL operations registered ahead of time and named by the SHA-256 of their text.

A document never changes once stored: a different text is a different document (its id is its hash). Requests
name one by id instead of sending the text (`{"documentId": "sha256:<hex>"}`, Apollo's
`extensions.persistedQuery.sha256Hash`, Relay's `id`/`doc_id`). Registration input comes as `.graphql` files or a
persisted-query manifest (Apollo's `apollo-persisted-query-manifest`, or Relay's `{id: text}` map); this module
reads them and names the documents, and checks nothing against the schema (the API does that at registration).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError

PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")
MAX_NAME = 200
MAX_TEXT = 100_000
MAX_BATCH = 500


class TrustedMode(StrEnum):
    """What the server accepts: ``off`` ad-hoc text only, ``optional`` both, ``required`` trusted documents only
    (principals holding ``documents:adhoc`` may still send text, e.g. an admin's GraphiQL)."""

    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    id: str
    name: str
    text: str
    registered_at: datetime | None = None
    registered_by: str | None = None


def document_id(text: str) -> str:
    """The id of a document's text: ``sha256:`` and the hex digest of its UTF-8 bytes (nothing normalised)."""
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_id(raw: str) -> str | None:
    """A document id as a request may name it (``sha256:<hex>`` or the bare hex Apollo and Relay send), in its
    stored form; None when it is not a SHA-256 id."""
    value = raw.strip().lower()
    if value.startswith(PREFIX):
        value = value[len(PREFIX) :]
    return PREFIX + value if _HEX.fullmatch(value) else None


def new_document(name: str, text: str) -> TrustedDocument:
    """A document to register; refuses an empty or oversized text and a blank or overlong name."""
    name = name.strip()
    if not name:
        raise DomainError.invalid_input("a trusted document needs a name (its operation's name, or the file's)", "name")
    if len(name) > MAX_NAME:
        raise DomainError.invalid_input(f"a document's name is at most {MAX_NAME} characters", "name")
    if not text.strip():
        raise DomainError.invalid_input(f"document {name!r} is empty", "text")
    if len(text) > MAX_TEXT:
        raise DomainError.invalid_input(f"document {name!r} is longer than {MAX_TEXT} characters", "text")
    return TrustedDocument(id=document_id(text), name=name, text=text)


def from_manifest(manifest: object) -> list[TrustedDocument]:
    """The documents of a persisted-query manifest: Apollo's (``format: apollo-persisted-query-manifest``, each
    operation's ``name`` and ``body``) or Relay's (a JSON object of ``id: text``). An id the manifest states must
    be the text's SHA-256: a manifest whose ids do not match its texts was not made from them."""
    if isinstance(manifest, Mapping) and manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if not isinstance(operations, list):
            raise DomainError.invalid_input("an Apollo manifest lists its documents in `operations`", "manifest")
        pairs: list[tuple[str | None, str, str]] = []
        for index, item in enumerate(operations):
            if not isinstance(item, Mapping) or not isinstance(item.get("body"), str):
                raise DomainError.invalid_input(f"operation {index} of the manifest has no `body` text", "manifest")
            name = item.get("name")
            stated = item.get("id")
            pairs.append((stated if isinstance(stated, str) else None, str(name or f"operation-{index}"), item["body"]))
        return _checked(pairs)
    if isinstance(manifest, Mapping) and all(isinstance(v, str) for v in manifest.values()):
        return _checked([(str(key), operation_name(text) or str(key)[:16], text) for key, text in manifest.items()])
    raise DomainError.invalid_input(
        "not a persisted-query manifest: expected Apollo's {format, operations} or Relay's {id: text}", "manifest"
    )


def from_files(files: Iterable[tuple[str, str]]) -> list[TrustedDocument]:
    """One document per ``.graphql`` file (its text as written): named by its first operation, else the file."""
    return [new_document(operation_name(text) or stem, text) for stem, text in files]


def _checked(entries: list[tuple[str | None, str, str]]) -> list[TrustedDocument]:
    documents = []
    for stated, name, text in entries:
        document = new_document(name, text)
        if stated is not None and normalise_id(stated) != document.id:
            raise DomainError.invalid_input(
                f"the manifest's id for {name!r} is not the SHA-256 of its text (configure the client to hash "
                "documents with SHA-256, e.g. Relay's persistConfig algorithm SHA256)",
                "manifest",
            )
        documents.append(document)
    return documents


_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def operation_name(text: str) -> str | None:
    match = _OPERATION.search(text)
    return match.group(1) if match else None
