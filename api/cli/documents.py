"""`vigil documents register | list`: trusted documents from the command line, acting as the SYSTEM actor.

`register` takes `.graphql` files (one document per file), directories of them, and persisted-query manifests
(`.json`: Apollo's or Relay's); every document is checked against the schema and the batch is stored all or none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.cli.tokens import _in_transaction as in_transaction
from api.settings import Settings
from api.trusted_documents import register
from domain.document import TrustedDocument, from_files, from_manifest
from domain.errors import DomainError
from persistence.uow import SqlUnitOfWork

documents_app = typer.Typer(
    help="Trusted documents: register operations ahead of time (stored by SHA-256), list them.", no_args_is_help=True
)
console = Console(stderr=True)
stdout = Console(soft_wrap=True)

CONSOLE_DOCUMENTS = Path(__file__).resolve().parent.parent / "console"  # api/console


class DocumentFileError(Exception):
    """A path that holds no documents or a file that cannot be read as one; the message is one line."""


def read_documents(paths: list[Path]) -> list[TrustedDocument]:
    """The documents of ``paths``: ``.graphql``/``.gql`` files, directories of them, ``.json`` manifests."""
    documents: list[TrustedDocument] = []
    for path in paths:
        if path.is_dir():
            files = sorted([*path.rglob("*.graphql"), *path.rglob("*.gql")])
            if not files:
                raise DocumentFileError(f"{path} holds no .graphql files")
            documents += from_files((f.stem, _read(f)) for f in files)
        elif path.suffix == ".json":
            try:
                manifest = json.loads(_read(path))
            except ValueError:
                raise DocumentFileError(f"{path} is not valid JSON") from None
            documents += from_manifest(manifest)
        elif path.suffix in (".graphql", ".gql"):
            documents += from_files([(path.stem, _read(path))])
        else:
            raise DocumentFileError(f"{path}: expected a .graphql file, a directory or a .json manifest")
    return documents


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentFileError(f"cannot read {path}: {exc.__class__.__name__}") from None


async def register_with(
    uow: SqlUnitOfWork, documents: list[TrustedDocument], schema: Any = None
) -> tuple[list[TrustedDocument], int]:
    """Check ``documents`` against ``schema`` (default: the schema ``build_schema`` makes for the settings), then
    store those not stored yet."""
    if schema is None:
        from api.graphql.schema import build_schema

        schema = build_schema(Settings())
    return await register(uow, schema, documents, datetime.now(UTC))


async def register_console_documents(url: str, paths: list[Path] | None = None, schema: Any = None) -> int:
    """Register the console's own operations (``api/console``), or the documents of ``paths``, on the database at
    ``url``; how many were new. ``schema``: the one the app being started serves (else one is built)."""
    from persistence.db import create_engine, create_session_factory
    from persistence.principals import SYSTEM_AUDIT

    engine = create_engine(url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            _, new = await register_with(uow, read_documents(paths or [CONSOLE_DOCUMENTS]), schema)
        return new
    finally:
        await engine.dispose()


@documents_app.command("register")
def register_command(
    paths: list[Path] = typer.Argument(..., help=".graphql files, directories of them, or .json manifests."),
) -> None:
    """Register documents (all or none); prints each one's id and name. Registering again changes nothing."""
    try:
        documents = read_documents(paths)
        stored, new = in_transaction(lambda uow: register_with(uow, documents))
    except (DocumentFileError, DomainError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        console.print(f"vigil: error: {message}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    for document in stored:
        stdout.print(f"{document.id}  {document.name}", markup=False, highlight=False)
    console.print(f"{new} new, {len(stored) - new} already registered", markup=False, highlight=False)


@documents_app.command("list")
def list_command(
    name: str | None = typer.Option(None, help="Only the documents of this name."),
    first: int = typer.Option(100, help="How many (newest first), at most 100."),
) -> None:
    """The registered documents, newest first: id, name, when and by whom."""
    from persistence.documents import listing

    async def work(uow: SqlUnitOfWork) -> list[TrustedDocument]:
        return (await listing(uow.session, first=first, after=None, name=name)).items

    try:
        documents = in_transaction(work)
    except DomainError as error:
        console.print(f"vigil: error: {error.message}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    for d in documents:
        when = d.registered_at.isoformat(timespec="seconds") if d.registered_at else "-"
        stdout.print(f"{d.id}  {d.name}  {when}  {d.registered_by}", markup=False, highlight=False)
