"""The event a rule set evaluates: what happened (``type``), where (``region``), to which entities, with what
attributes.

``entities`` maps an entity kind of the catalogue (``"account"``, ``"content"``, ``"ad"``...) to the entity's id
(any stable string; the caller's UUIDs as text). ``attributes`` holds the event's typed payload as declared by the
catalogue for its type (``str``, ``int``/``float``, ``bool``, or a sequence of ``str``). ``signals`` carries
classifier scores that came with the event (name -> score); ``signal("x")`` reads them first, then a number
attribute named ``x``, then the subject's scores submitted earlier (``submitSignal``; facts, see
``ports.EntityFacts.signals``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: The entity a rule reads by default (for ``signal("x")`` and rollout) is the event's first present kind here.
SUBJECT_ORDER = ("content", "ad", "account")


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    region: str
    entities: Mapping[str, str]
    attributes: Mapping[str, object]
    occurred_at: datetime
    idempotency_key: str = ""
    signals: Mapping[str, float] = field(default_factory=dict)

    @property
    def subject(self) -> tuple[str, str] | None:
        """(kind, id) of the event's subject: its content, else its ad, else its account; None if none."""
        for kind in SUBJECT_ORDER:
            entity_id = self.entities.get(kind)
            if entity_id is not None:
                return kind, entity_id
        for kind, entity_id in self.entities.items():
            return kind, entity_id
        return None
