"""Relay global IDs: base64("<Type>:<uuid>"). Decoding checks the type, so a Case id never opens a Report."""

from __future__ import annotations

import uuid
from binascii import b2a_base64

from strawberry.relay import GlobalID

from domain.errors import DomainError


def to_global_id(type_name: str, raw_id: uuid.UUID | str) -> str:
    """Relay's global id, base64 of ``Type:id`` (what ``str(GlobalID(...))`` gives, without building one;
    ``base64.b64encode`` is this call)."""
    return b2a_base64(f"{type_name}:{raw_id}".encode(), newline=False).decode("ascii")


def parse_any(global_id: str) -> tuple[str, str] | None:
    """(type name, raw id), or None when the string is not a global id."""
    try:
        gid = GlobalID.from_id(global_id)
    except Exception:  # strawberry raises a GraphQLError subclass for malformed ids
        return None
    return gid.type_name, gid.node_id


def parse_id(global_id: str, expected: str | tuple[str, ...], *, field: str) -> uuid.UUID:
    """The UUID inside a global id of the expected type, or a typed INVALID_INPUT error naming the field."""
    expected_names = (expected,) if isinstance(expected, str) else expected
    parsed = parse_any(global_id)
    if parsed is None:
        raise DomainError.invalid_input(f"`{field}` is not a valid ID", field=field)
    type_name, raw = parsed
    if type_name not in expected_names:
        wanted = " or ".join(expected_names)
        raise DomainError.invalid_input(f"`{field}` is the ID of a {type_name}, expected a {wanted}", field=field)
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise DomainError.invalid_input(f"`{field}` is not a valid ID", field=field) from exc
