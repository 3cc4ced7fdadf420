"""`vigil token issue | revoke | list`: API tokens from the command line, acting as the SYSTEM actor.

`issue` prints the secret alone on the last line of stdout (everything else goes to stderr), so scripts can do
`TOKEN=$(vigil token issue --role moderator --region US | tail -n1)`.

The operator has the database, so the identity service does not cap it (``api.services.identity.OPERATOR``), but
it never attaches silently: a staff token for an existing staff member who holds more than `--role` in `--region`
(the token carries all they hold) is refused unless `--existing` says that is meant; a name that looks like another
principal's is refused outright; a `vendor_moderator` needs `--vendor`. Such refusals are audited.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from api.bootstrap import resolve_database
from api.graphql.ids import parse_any
from api.services import identity
from api.services.identity import PartnerToken, StaffToken, staff_name
from api.settings import Settings
from domain.errors import DomainError
from persistence.principals import SYSTEM_AUDIT, TokenRecord, list_tokens
from persistence.uow import AuditContext, SqlUnitOfWork

T = TypeVar("T")

token_app = typer.Typer(help="API tokens: issue (the secret is shown once), revoke, list.", no_args_is_help=True)
console = Console(stderr=True)
OPERATION = "token issue"
stdout = Console(soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _in_transaction(work: Callable[[SqlUnitOfWork], Awaitable[T]], audit: AuditContext = SYSTEM_AUDIT) -> T:
    """Migrate the database to head, then run `work` in one unit of work (committed unless it raises), as the
    operator (``audit``)."""
    from persistence import migrate as migrations
    from persistence.db import create_engine, create_session_factory

    database = resolve_database(Settings())
    try:
        migrations.upgrade(database.url)

        async def go() -> T:
            engine = create_engine(database.url, pool_size=1)
            try:
                async with SqlUnitOfWork(create_session_factory(engine), audit) as uow:
                    return await work(uow)
            finally:
                await engine.dispose()

        return asyncio.run(go())
    finally:
        database.close()


@token_app.command("issue")
def issue(
    role: str | None = typer.Option(None, help="Staff token: the role the principal holds (e.g. moderator)."),
    partner: str | None = typer.Option(None, help="Partner token: the partner organisation (e.g. acme-flagging)."),
    scopes: str | None = typer.Option(
        None, help="Partner token: comma-separated permissions and/or presets (trusted_flagger, ...)."
    ),
    region: str = typer.Option(..., help="US, EU, APAC, ROW or '*' (every region)."),
    name: str | None = typer.Option(
        None, help="Staff: the principal's name (default <role>-<region>). Partner: the token's name."
    ),
    expires: str = typer.Option("30d", help="Lifetime: 30d, 12h, 90m."),
    vendor: str | None = typer.Option(
        None, help="Staff token: the moderation vendor the staff member works for (QA metrics count them under it)."
    ),
    existing: bool = typer.Option(
        False,
        "--existing",
        help="Staff token: the staff member exists and holds more than --role in --region; issue a token carrying "
        "all they hold anyway.",
    ),
    documents: list[str] = typer.Option(
        [],
        "--documents",
        help="Partner token: pin it to these trusted documents (names, comma-separated or the option repeated); "
        "it may send them and nothing else.",
    ),
) -> None:
    """Issue a token and print it, alone, on the last line of stdout. Shown once: it is stored hashed."""
    if (role is None) == (partner is None):
        raise _fail("give either --role (a staff token) or --partner with --scopes (a partner token)")
    if role is not None and scopes is not None:
        raise _fail("--scopes belongs to partner tokens; a staff token carries its role")
    if partner is not None and (vendor is not None or existing):
        raise _fail("--vendor and --existing belong to staff tokens; a partner token's organisation is --partner")
    if role is not None and documents:
        raise _fail("--documents pins partner tokens; a staff token's documents follow the server's mode")
    if partner is not None and not scopes:
        raise _fail("a partner token needs --scopes (permissions or presets, comma-separated)")
    now = datetime.now(UTC)

    async def work(uow: SqlUnitOfWork) -> tuple[TokenRecord, str]:
        if partner is not None:
            values = [s.strip() for s in (scopes or "").split(",") if s.strip()]
            pinned = tuple(d.strip() for item in documents for d in item.split(",") if d.strip())
            wanted = PartnerToken(partner, values, region, name or f"{partner} {region} (CLI)", expires, pinned)
            return await identity.issue_partner_token(uow, identity.OPERATOR, wanted, now)
        staff = StaffToken(
            str(role), region, name or staff_name(str(role), region), expires, vendor_org=vendor, existing=existing
        )
        return await identity.issue_staff_token(uow, identity.OPERATOR, staff, now)

    try:
        record, secret = _in_transaction(work)
    except identity.EscalationRefused as error:
        _audit_refusal(error)
        raise _fail(error.message) from error
    except DomainError as error:
        raise _fail(error.message) from error
    holder = record.principal_name
    what = (
        f"role {role} in {region}" + (f", vendor {vendor}" if vendor else "")
        if role is not None
        else f"scopes {', '.join(record.scopes or ())} in {region}"
    )
    console.print(f"[green]token issued[/green] for [bold]{holder}[/bold] ({what})")
    console.print(f"id {record.id}, prefix {record.prefix}, expires {record.expires_at:%Y-%m-%d %H:%M} UTC")
    console.print("It is shown once and stored hashed. Send it as  Authorization: Bearer <token>")
    print(secret, flush=True)


def _audit_refusal(error: DomainError) -> None:
    """The refused issue in the audit trail, as GraphQL records its refusals (the issue itself wrote nothing)."""

    async def work(uow: SqlUnitOfWork) -> None:
        identity.record_refusal(uow, OPERATION, error)

    try:
        _in_transaction(work, identity.refusal_context(replace(SYSTEM_AUDIT, operation=OPERATION), error))
    except Exception:  # the refusal stands even if its record could not be written
        console.print("[yellow]warning:[/yellow] the refusal could not be recorded in the audit trail")


def _token_id(value: str) -> uuid.UUID:
    parsed = parse_any(value)
    raw = parsed[1] if parsed is not None and parsed[0] == "ApiToken" else value
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise _fail(f"{value!r} is not a token id (a UUID or an ApiToken global id)") from None


@token_app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., metavar="ID", help="The token's id (UUID or ApiToken global id)."),
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    wanted = _token_id(token_id)
    now = datetime.now(UTC)

    async def work(uow: SqlUnitOfWork) -> TokenRecord:
        return await identity.revoke(uow, identity.OPERATOR, wanted, now)

    try:
        record = _in_transaction(work)
    except DomainError:
        raise _fail(f"no token with id {wanted}") from None
    console.print(f"[green]revoked[/green] {record.id} ({record.prefix}, {record.name}) at {record.revoked_at}")


def token_row(t: TokenRecord, now: datetime) -> dict[str, object]:
    """One token as `token list --json` prints it (never a secret)."""
    return {
        "id": str(t.id),
        "prefix": t.prefix,
        "name": t.name,
        "holder": t.principal_name,
        "holder_kind": t.principal_kind,
        "partner_org": t.partner_org,
        "scopes": list(t.scopes) if t.scopes is not None else None,
        "region": t.region,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "status": t.status(now).value,
    }


@token_app.command("list")
def list_(
    first: int = typer.Option(100, min=1, max=100, help="How many (newest first, at most 100)."),
    after: str | None = typer.Option(None, help="Continue after this cursor (printed after a full page)."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout, one token per line, every field."),
) -> None:
    """List tokens (id, prefix, holder, scopes, status; never a secret). On a terminal: a table; in a pipe or
    a file: tab-separated lines with full values (ids usable by `token revoke`); `--json`: JSON lines."""

    async def work(uow: SqlUnitOfWork) -> tuple[list[TokenRecord], str | None]:
        page = await list_tokens(uow.session, first=first, after=after)
        return page.items, page.cursors[-1] if page.has_next else None

    items, next_cursor = _in_transaction(work)
    now = datetime.now(UTC)
    rows = [token_row(t, now) for t in items]
    columns = ("id", "prefix", "name", "holder", "scopes", "region", "expires", "status")

    def cells(t: TokenRecord) -> tuple[str, ...]:
        return (
            str(t.id),
            t.prefix,
            t.name,
            f"{t.principal_name} ({t.principal_kind.lower()})",
            ",".join(t.scopes) if t.scopes is not None else "(roles)",
            t.region or "",
            f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never",
            t.status(now).value,
        )

    if as_json:
        for row in rows:
            print(json.dumps(row), flush=False)
    elif not sys.stdout.isatty():
        print("\t".join(columns))
        for t in items:
            print("\t".join(cells(t)))
    else:
        table = Table(*columns)
        table.columns[0].no_wrap = True
        table.columns[0].overflow = "ignore"  # ids are never cut: `token revoke` needs them whole
        for t in items:
            table.add_row(*cells(t))
        stdout.print(table)
    sys.stdout.flush()
    if next_cursor is not None:
        console.print(f"more: --after {next_cursor}")
