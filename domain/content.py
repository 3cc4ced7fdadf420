"""Content aggregate: a piece of user content owned by an account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.region import Region


class ContentKind(StrEnum):
    VIDEO = "VIDEO"
    IMAGE = "IMAGE"
    POST = "POST"
    COMMENT = "COMMENT"
    ARTICLE = "ARTICLE"
    LIVESTREAM = "LIVESTREAM"


class Visibility(StrEnum):
    """Ordered from least to most restrictive. Derived from enforcement actions (see ``domain.status``)."""

    VISIBLE = "VISIBLE"
    LABELLED = "LABELLED"
    AGE_RESTRICTED = "AGE_RESTRICTED"
    LIMITED = "LIMITED"
    REMOVED = "REMOVED"


@dataclass(kw_only=True)
class Content:
    """Keyed by (region, external_id). Its region is its owner's region. ``reach`` = views.

    ``visibility`` is only ever written by enforcement.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    owner_account_id: uuid.UUID
    external_id: str
    kind: ContentKind
    title: str | None = None
    text: str | None = None
    url: str | None = None
    language: str | None = None
    reach: int = 0
    visibility: Visibility = Visibility.VISIBLE
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def update_details(
        self,
        *,
        kind: ContentKind,
        title: str | None,
        text: str | None,
        url: str | None,
        language: str | None,
        reach: int,
        now: datetime,
    ) -> bool:
        """Overwrite the descriptive fields; returns whether anything changed."""
        new = (kind, title, text, url, language, reach)
        if new == (self.kind, self.title, self.text, self.url, self.language, self.reach):
            return False
        self.kind, self.title, self.text, self.url, self.language, self.reach = new
        self.updated_at = now
        return True

    def set_visibility(self, visibility: Visibility, now: datetime) -> bool:
        if self.visibility == visibility:
            return False
        self.visibility, self.updated_at = visibility, now
        return True
