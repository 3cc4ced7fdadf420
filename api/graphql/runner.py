"""Running a domain command for a GraphQL mutation: actor, region-guarded unit of work, typed errors, retries.

Every mutation resolver is `return await run(info, "decideCase", Permission.CASES_DECIDE, lambda uow, actor: ...)`
and maps the domain result to its payload. `run`:
- builds the domain `Actor` from the principal (seniority from its roles);
- opens a unit of work whose repositories only see records in the regions where the principal holds the
  mutation's permission (a record elsewhere is NOT_FOUND, exactly as `node(id)` pretends);
- turns `DomainError` into the typed error member of the result union (nothing was written);
- retries the whole command on a lost race by the one policy of ``persistence.retry`` (a version that no longer
  matched, a unique-index violation, a deadlock or serialization failure), the same for every command and engine,
  and answers its typed CONFLICT when the records kept changing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from api.graphql.context import Context, Info
from api.graphql.shared.common import MutationError, error_from
from authz.actors import actor_for as authz_actor_for
from authz.permissions import Permission
from domain.actor import Actor
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.services.report import IntakeReads, SubmitReport
from persistence.fast.intake import IntakeUnitOfWork
from persistence.fast.prefetched import PrefetchedUnitOfWork
from persistence.repositories import PostgresUnitOfWork
from persistence.retry import retrying
from persistence.uow import AuditContext

T = TypeVar("T")


def actor_for(context: Context, permission: Permission) -> Actor:
    return authz_actor_for(context.principal, context.permissions, permission)


def audit_context(context: Context, operation: str, reason: str | None = None) -> AuditContext:
    principal = context.principal
    return AuditContext(
        actor_kind=principal.kind.value,
        actor_id=principal.id,
        operation=operation,
        request_id=context.request_id or None,
        reason=reason,
    )


def unit_of_work(
    context: Context, operation: str, permission: Permission, reason: str | None = None
) -> PostgresUnitOfWork:
    audit = audit_context(context, operation, reason)
    return PostgresUnitOfWork(context.sessions, audit, regions=context.permissions.regions(permission))


async def run(
    info: Info,
    operation: str,
    permission: Permission,
    command: Callable[[PostgresUnitOfWork, Actor], Awaitable[T]],
    *,
    reason: str | None = None,
) -> T | MutationError:
    context = info.context
    actor = actor_for(context, permission)

    async def attempt(_: int) -> T:
        async with unit_of_work(context, operation, permission, reason) as uow:
            result = await command(uow, actor)
        return result

    try:
        return await retrying(attempt, what=operation)
    except DomainError as exc:
        return failed(context, exc)


def failed(context: Context, exc: DomainError) -> MutationError:
    """The typed error of a refused command; the first one of a request is its metrics outcome."""
    if context.payload_error is None:
        context.payload_error = str(exc.code.value)
    return error_from(exc)


U = TypeVar("U", bound=PrefetchedUnitOfWork)


async def run_prefetched(
    info: Info,
    operation: str,
    permission: Permission,
    open_uow: Callable[[asyncpg.Pool, AuditContext, Actor, frozenset[str] | None], U],
    command: Callable[[U, Actor], Awaitable[T]],
    *,
    optimistic_first: bool = False,
) -> T | MutationError:
    """``run`` for the hot commands (report intake, claims) on a prefetching unit of work: the same actor, region
    guard, typed errors and retry policy, in four round trips (``persistence.fast.prefetched``). With
    ``optimistic_first`` the first attempt runs unlocked in two round trips and any retry runs locked."""
    context = info.context
    pool = context.pool
    if pool is None:
        raise RuntimeError(f"{operation} needs the app's connection pool")
    actor = actor_for(context, permission)
    audit = audit_context(context, operation)
    regions = context.permissions.regions(permission)

    async def attempt(n: int) -> T:
        unit = open_uow(pool, audit, actor, regions)
        unit.optimistic = optimistic_first and n == 1
        async with unit as uow:
            return await command(uow, actor)

    try:
        return await retrying(attempt, what=operation)
    except DomainError as exc:
        return failed(context, exc)


async def run_intake(
    info: Info,
    operation: str,
    cmds: Sequence[SubmitReport],
    command: Callable[[UnitOfWork, Actor], Awaitable[T]],
    *,
    rule_regions: frozenset[str] = frozenset(),
) -> T | MutationError:
    """Report intake: everything ``cmds`` need read in one statement and written in another; when that first
    attempt loses a race (a crowd reporting one post), the next one locks the subjects first. ``rule_regions``:
    the regions with rules (``IntakeReads.rule_regions``)."""

    def open_uow(pool: asyncpg.Pool, audit: AuditContext, actor: Actor, regions: frozenset[str] | None) -> Any:
        return IntakeUnitOfWork(pool, audit, IntakeReads.of(actor, cmds, rule_regions), regions=regions)

    return await run_prefetched(info, operation, Permission.REPORTS_CREATE, open_uow, command, optimistic_first=True)


def require_region(context: Context, permission: Permission, region: str, field: str = "region") -> None:
    """For commands that create a record in a region named by the input (not inherited from a parent)."""
    if not context.permissions.allows(permission, region):
        raise DomainError.forbidden(f"you may not {permission.value} in region {region}", field=field)
