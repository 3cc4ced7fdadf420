"""Permissions declared on fields: `extensions=requires(Permission.CASES_DECIDE)`.

Every root field declares one (or `public()`). A nested field declares one when it needs another permission than
the record it belongs to (e.g. `history` needs `audit:read`); such a field must be nullable, so that refusing it
nulls that field alone instead of its parent (tests/integration/authz/test_partial_data.py walks the schema).

Checked once per field against the request's permission map (computed once per request). A refusal is a
GraphQL error with `extensions.code` UNAUTHENTICATED (no valid token) or FORBIDDEN (a valid principal lacking
the permission); nothing runs. A refused *mutation* is also recorded as a security audit event, in its own
transaction, since the refused change itself never happens.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import OperationType
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from api.graphql.errors import Forbidden, Unauthenticated
from authz.permissions import Permission
from persistence.uow import AuditContext, RecordKind, SqlUnitOfWork, Subject

log = logging.getLogger("vigil.authz")


class Requires(BasePermission):
    """Grants when the principal holds any of `permissions` in at least one region (empty: a public field)."""

    def __init__(self, *permissions: Permission) -> None:
        self.permissions = permissions

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if not self.permissions:
            return True
        context = info.context
        if context.auth_error is not None or not context.principal.is_authenticated:
            reason = context.auth_error or "authentication required: send `Authorization: Bearer <token>`"
            await _record_refusal(info, "UNAUTHENTICATED", reason)
            raise Unauthenticated(reason)
        if not any(context.permissions.allows(p) for p in self.permissions):
            needed = " or ".join(p.value for p in self.permissions)
            await _record_refusal(info, "FORBIDDEN", f"missing permission {needed}")
            raise Forbidden(f"permission {needed} is required for {info.field_name}")
        return True


def requires(*permissions: Permission) -> list[FieldExtension]:
    """Declare the permission(s) a root field needs; with several, any one of them suffices."""
    if not permissions:
        raise ValueError("name at least one permission; use public() for a field anyone may call")
    return [PermissionExtension(permissions=[Requires(*permissions)], use_directives=False)]


def public() -> list[FieldExtension]:
    """An explicit declaration that a root field needs no permission (e.g. `viewer`)."""
    return [PermissionExtension(permissions=[Requires()], use_directives=False)]


def declared_permission(field: Any) -> tuple[Permission, ...] | bool | None:
    """The permissions a schema field declares (any one suffices), None for an explicitly public field,
    False when it declares nothing."""
    for extension in getattr(field, "extensions", None) or []:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                if isinstance(permission, Requires):
                    return permission.permissions or None
    return False


REFUSED_MUTATION = RecordKind("Mutation")


async def _record_refusal(info: Any, code: str, reason: str) -> None:
    if info.operation.operation is not OperationType.MUTATION or info.path.prev is not None:
        return
    context = info.context
    principal = context.principal
    action = f"security.{code.lower()}"
    audit = AuditContext(principal.kind.value, principal.id, action, context.request_id or None, reason)
    try:
        async with SqlUnitOfWork(context.sessions, audit) as uow:
            uow.record(REFUSED_MUTATION, Subject(info.field_name), action=action)
    except Exception:  # the refusal stands even if its record could not be written
        log.exception("could not record a refused mutation")
