"""Who performs a command, and what they may do where.

The authz layer builds the ``Actor`` from a principal: its seniority (``domain.seniority``) and its
``capabilities``, each held in the regions where the principal's permission map grants the permission behind it
(``authz.actors``). Rules that use them live in the domain: seniority in ``domain.case``/``domain.appeal``,
capabilities in ``domain.enforcement.ensure_may_apply``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.region import Region


class ActorKind(StrEnum):
    STAFF = "STAFF"
    TOKEN = "TOKEN"  # noqa: S105 - an actor kind, not a secret
    AUTOMATION = "AUTOMATION"
    SYSTEM = "SYSTEM"


class Capability(StrEnum):
    """What an actor may do beyond deciding: held per region."""

    SANCTION_ACCOUNTS = "SANCTION_ACCOUNTS"
    """Ban, suspend, restrict the features of, or hold the ads of an account (``accounts:ban``)."""


Grant = tuple[Capability, Region]


@dataclass(frozen=True)
class Actor:
    """The caller of a service. ``seniority`` and ``capabilities`` are supplied by the authz layer."""

    id: str
    kind: ActorKind
    seniority: int = 0
    capabilities: frozenset[Grant] = frozenset()

    def may(self, capability: Capability, region: Region) -> bool:
        return (capability, region) in self.capabilities
