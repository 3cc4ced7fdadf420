"""Mutation payloads obey read permissions: a record inside a payload is shown only to a caller who could read it
as a nested field (`api.graphql.shared.visibility.visible`); otherwise the field is null (a list leaves it out).

One allowance: the writer of a kind of record gets back the records of that kind it writes (`WRITE_PERMISSION`,
in the record's region): a platform service that upserts accounts without `accounts:read` still learns the
account's ID. It never extends to what the write touched: the case a report folded into, the review case of a
submitted ad, stay behind `cases:read`.

`guard_payloads(Mutation)` walks every type reachable from the mutations' results, down to the record types
(whose own relations already check visibility), and puts a `ReadCheck` on every field that returns a record or a
list of records, making a single record nullable. It runs before the schema is built, so a payload field added
later is guarded without anyone remembering to; `tests/security/test_payload_visibility.py` walks the built schema
to prove it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.union import StrawberryUnion

from api.graphql.shared.visibility import READ_PERMISSION, visible
from authz.permissions import Permission
from authz.roles import GLOBAL_REGION

WRITE_PERMISSION: dict[str, Permission] = {
    "Account": Permission.ACCOUNTS_WRITE,
    "Content": Permission.CONTENT_WRITE,
    "Ad": Permission.ADS_WRITE,
    "Report": Permission.REPORTS_CREATE,
    "Appeal": Permission.APPEALS_CREATE,
    "Policy": Permission.POLICIES_PUBLISH,
    "PolicyVersion": Permission.POLICIES_PUBLISH,
    "StrikeLadder": Permission.LADDERS_DEFINE,
    "TrustedDocument": Permission.DOCUMENTS_REGISTER,
    "Rule": Permission.RULES_WRITE,
    "NamedList": Permission.RULES_WRITE,
}
"""Record type → the permission that writes it: its holder sees the records of that type a payload returns."""


def record_type_name(value: Any) -> str | None:
    definition = getattr(value, "__strawberry_definition__", None)
    name = getattr(definition, "name", None)
    return name if name in READ_PERMISSION else None


class ReadCheck(FieldExtension):
    """Null (or left out of a list) unless the caller may read the record where it lives."""

    def _filter(self, info: Any, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [item for item in value if self._allowed(info, item)]
        return value if self._allowed(info, value) else None

    @staticmethod
    def _allowed(info: Any, value: Any) -> bool:
        name = record_type_name(value)
        if name is None or visible(info.context, name, value.entity):
            return True
        write = WRITE_PERMISSION.get(name)
        region = getattr(value.entity, "region", None)
        where = region.value if region is not None else GLOBAL_REGION
        return write is not None and bool(info.context.permissions.allows(write, where))

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return self._filter(info, next_(source, info, **kwargs))

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any) -> Any:
        result = next_(source, info, **kwargs)
        if hasattr(result, "__await__"):
            result = await result
        return self._filter(info, result)


def _unwrap(type_: Any) -> tuple[Any, bool, bool]:
    """(innermost type, nullable, is a list)."""
    nullable = isinstance(type_, StrawberryOptional)
    if nullable:
        type_ = type_.of_type
    is_list = isinstance(type_, StrawberryList)
    while isinstance(type_, StrawberryList | StrawberryOptional):
        type_ = type_.of_type
    return _resolved(type_), nullable, is_list


def _resolved(type_: Any) -> Any:
    """The type a lazy reference names (another area's type: `strawberry.lazy`), else the type itself."""
    return type_.resolve_type() if isinstance(type_, LazyType) else type_


def _members(type_: Any) -> list[Any]:
    if isinstance(type_, StrawberryUnion):
        return [m for m in map(_resolved, type_.types) if has_object_definition(m)]
    return [type_] if has_object_definition(type_) else []


def payload_types(mutation: type[Any]) -> list[type[Any]]:
    """Every object type reachable from a mutation's result, stopping at record types."""
    found: list[type[Any]] = []
    pending = [
        member for field in mutation.__strawberry_definition__.fields for member in _members(_unwrap(field.type)[0])
    ]
    while pending:
        current = pending.pop()
        if current in found or record_type_name(current) is not None:
            continue
        found.append(current)
        for field in current.__strawberry_definition__.fields:
            pending.extend(_members(_unwrap(field.type)[0]))
    return found


def record_fields(cls: type[Any]) -> list[StrawberryField]:
    """The fields of a payload type that return a record or a list of records."""
    fields = []
    for field in cls.__strawberry_definition__.fields:
        inner = _unwrap(field.type)[0]
        if any(record_type_name(member) for member in _members(inner)):
            fields.append(field)
    return fields


def guard_payloads(mutation: type[Any]) -> None:
    """Idempotent: guard every record field of every payload type."""
    for cls in payload_types(mutation):
        for field in record_fields(cls):
            if any(isinstance(e, ReadCheck) for e in field.extensions):
                continue
            _, nullable, is_list = _unwrap(field.type)
            if not nullable and not is_list:
                field.type = StrawberryOptional(field.type)
            field.extensions.append(ReadCheck())
