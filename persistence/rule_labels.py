"""A rule's ``label`` action on PostgreSQL: the label upserted with its expiry and the rule version that set it,
audited in the caller's unit of work (an immediate action's own, or a delayed action's claiming one)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert

from domain.rules import Label
from domain.services.events import Accepted
from domain.services.rule_runs import ActionResult, ActiveRule, Outcome
from persistence.tables.rules import labels
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

LABEL = RecordKind("label")


async def write_label(
    uow: SqlUnitOfWork, rule: ActiveRule, accepted: Accepted, action: Label, now: datetime
) -> ActionResult:
    entity_id = accepted.event.entities.get(action.entity_kind)
    if entity_id is None:
        return ActionResult("LABEL", Outcome.FAILED, f"the event names no {action.entity_kind}")
    expires = now + action.expiry if action.expiry is not None else None
    row = {
        "id": uuid.uuid4(),
        "region": accepted.event.region,
        "entity_kind": action.entity_kind,
        "entity_id": entity_id,
        "name": action.name,
        "rule_id": rule.rule_id,
        "rule_version": rule.version,
        "expires_at": expires,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    upsert = insert(labels).values(row)
    stmt = upsert.on_conflict_do_update(
        index_elements=["region", "entity_kind", "entity_id", "name"],
        set_={
            "rule_id": rule.rule_id,
            "rule_version": rule.version,
            "expires_at": expires,
            "updated_at": now,
            "version": labels.c.version + 1,
        },
    ).returning(labels.c.id)
    label_id = (await uow.session.execute(stmt)).scalar_one()
    after = {k: row[k] for k in ("entity_kind", "entity_id", "name", "rule_version", "expires_at")}
    uow.record(LABEL, Subject(label_id, accepted.event.region), action="ruleLabel", after=after)
    return ActionResult("LABEL", Outcome.TAKEN, f"{action.entity_kind} labelled {action.name}")
