"""Permissions declared on root fields: `extensions=requires(Permission.CASES_DECIDE)`.

Checked once per field against the request's permission map (computed once per request). A refusal is a
GraphQL error with `extensions.code` UNAUTHENTICATED (no valid token) or FORBIDDEN (a valid principal lacking
the permission); nothing runs. A refused *mutation* is also recorded as a security audit event, in its own
transaction, since the refused change itself never happens.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from graphql import OperationType
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from api.graphql.errors import Forbidden, Unauthenticated
from authz.permissions import Permission
from persistence.audit import AuditRecord, write_events

log = logging.getLogger("vigil.authz")


class Requires(BasePermission):
    """Grants when the principal holds `permission` in at least one region (None: public field)."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if self.permission is None:
            return True
        context = info.context
        if context.auth_error is not None or not context.principal.is_authenticated:
            reason = context.auth_error or "authentication required: send `Authorization: Bearer <token>`"
            await _record_refusal(info, "UNAUTHENTICATED", reason)
            raise Unauthenticated(reason)
        if not context.permissions.allows(self.permission):
            await _record_refusal(info, "FORBIDDEN", f"missing permission {self.permission.value}")
            raise Forbidden(f"permission {self.permission.value} is required for {info.field_name}")
        return True


def requires(permission: Permission) -> list[FieldExtension]:
    return [PermissionExtension(permissions=[Requires(permission)], use_directives=False)]


def public() -> list[FieldExtension]:
    """An explicit declaration that a root field needs no permission (e.g. `viewer`)."""
    return [PermissionExtension(permissions=[Requires(None)], use_directives=False)]


def declared_permission(field: Any) -> Permission | bool | None:
    """The permission a schema field declares, None for an explicitly public one, False when undeclared."""
    for extension in getattr(field, "extensions", None) or []:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                if isinstance(permission, Requires):
                    return permission.permission
    return False


async def _record_refusal(info: Any, code: str, reason: str) -> None:
    if info.operation.operation is not OperationType.MUTATION or info.path.prev is not None:
        return
    context = info.context
    principal = context.principal
    record = AuditRecord(
        occurred_at=datetime.now(UTC),
        actor_kind=principal.kind.value,
        actor_id=principal.id,
        action=f"security.{code.lower()}",
        subject_kind="Mutation",
        subject_id=info.field_name,
        region=None,
        request_id=context.request_id or None,
        reason=reason,
    )
    try:
        async with context.sessions() as session, session.begin():
            await write_events(session, [record])
    except Exception:  # the refusal stands even if its record could not be written
        log.exception("could not record a refused mutation")
