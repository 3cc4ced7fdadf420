"""Policy aggregate: a platform rule and its immutable published versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from domain.region import Region
from domain.subject import Surface

DEFAULT_STRIKE_TTL_DAYS: Final = 90


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    SEVERE = "SEVERE"


@dataclass(kw_only=True)
class Policy:
    """A rule, identified by its unique ``code`` (e.g. ``HATE_SPEECH``).

    Policies are global: ``region`` is always ``None`` (the column exists so every table carries it).
    ``current_version`` is the number of the version in force; a decision cites that version's id.
    ``surface`` never changes once defined.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region | None = None
    code: str
    name: str
    surface: Surface
    current_version: int = 1
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def publish(self, name: str, now: datetime) -> int:
        """Advance to the next version number (the caller adds the PolicyVersion); returns it."""
        self.name = name
        self.current_version += 1
        self.updated_at = now
        return self.current_version


@dataclass(kw_only=True)
class PolicyVersion:
    """One published, immutable version of a policy. Global (``region`` is ``None``).

    ``number`` starts at 1 and is unique per policy. A strike from this version weighs ``strike_weight``
    and expires ``strike_ttl_days`` after it is issued. ``dsa_category`` is the EU DSA statement category and
    ``dsa_keywords`` its keywords (``category_specification``), both from the official vocabulary;
    ``guidelines_url`` is where the published rule can be read (the statements' ``decision_ground_reference_url``).
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region | None = None
    policy_id: uuid.UUID
    number: int
    severity: Severity
    strike_weight: int = 1
    strike_ttl_days: int = DEFAULT_STRIKE_TTL_DAYS
    dsa_category: str
    dsa_keywords: tuple[str, ...] = ()
    guidelines_url: str | None = None
    description: str
    published_at: datetime
    published_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def strike_ttl(self) -> timedelta:
        return timedelta(days=self.strike_ttl_days)
