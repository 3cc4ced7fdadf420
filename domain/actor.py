"""Who performs a command."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "STAFF"
    TOKEN = "TOKEN"  # noqa: S105 - an actor kind, not a secret
    AUTOMATION = "AUTOMATION"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class Actor:
    """The caller of a service. ``seniority`` is supplied by the authz layer (see ``domain.seniority``)."""

    id: str
    kind: ActorKind
    seniority: int = 0
