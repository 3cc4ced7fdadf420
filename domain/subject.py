"""What can be moderated (subjects), the policy surfaces, and which policies apply to which subjects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError
from domain.region import Region


class SubjectKind(StrEnum):
    ACCOUNT = "ACCOUNT"
    CONTENT = "CONTENT"
    AD = "AD"


class Surface(StrEnum):
    CONTENT = "CONTENT"
    ADS = "ADS"
    ACCOUNT = "ACCOUNT"


#: The surface of the case opened for a subject of each kind.
CASE_SURFACE: dict[SubjectKind, Surface] = {
    SubjectKind.CONTENT: Surface.CONTENT,
    SubjectKind.AD: Surface.ADS,
    SubjectKind.ACCOUNT: Surface.ACCOUNT,
}

#: Policy surfaces that may be cited against a subject of each kind. An account may be reported / decided
#: under an ACCOUNT policy (impersonation, ban evasion, ...) or a CONTENT policy (e.g. hate speech in its
#: profile); content only under CONTENT policies; ads only under ADS policies.
POLICY_SURFACES: dict[SubjectKind, tuple[Surface, ...]] = {
    SubjectKind.CONTENT: (Surface.CONTENT,),
    SubjectKind.AD: (Surface.ADS,),
    SubjectKind.ACCOUNT: (Surface.ACCOUNT, Surface.CONTENT),
}


def ensure_policy_applies(kind: SubjectKind, surface: Surface, *, field: str = "policyId") -> None:
    allowed = POLICY_SURFACES[kind]
    if surface not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise DomainError.invalid_input(
            f"a {surface.value} policy does not apply to a {kind.value} subject (allowed: {names})", field
        )


@dataclass(frozen=True)
class Subject:
    """A read-only view of the thing a report / case / decision is about (not persisted).

    ``owner_account_id`` is the account that answers for it: the content owner, the advertiser, or the account
    itself. ``reach`` is the content's view count (0 for accounts and ads).
    """

    kind: SubjectKind
    id: uuid.UUID
    region: Region
    owner_account_id: uuid.UUID
    reach: int = 0

    @property
    def case_surface(self) -> Surface:
        return CASE_SURFACE[self.kind]
