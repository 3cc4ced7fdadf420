"""Moderation operations: queues and QA reviews, plus the indexes the claim and metrics queries run on."""

from __future__ import annotations

import sqlalchemy as sa

from domain.qa import QaReview
from domain.queue import Queue
from persistence.metadata import metadata
from persistence.tables.cases import cases
from persistence.tables.derive import entity_columns
from persistence.tables.outcomes import appeals, decisions

queues = sa.Table(
    "queues",
    metadata,
    *entity_columns(Queue, foreign_keys={"escalation_queue_id": "queues.id"}, lengths={"name": 200}),
    sa.UniqueConstraint("region", "name"),
    sa.Index("uq_queues_one_default", "region", "surface", unique=True, postgresql_where=sa.text("is_default")),
    sa.Index("ix_queues_region_surface", "region", "surface"),
    sa.Index("ix_queues_region_created", "region", "created_at", "id"),
)

qa_reviews = sa.Table(
    "qa_reviews",
    metadata,
    *entity_columns(
        QaReview,
        foreign_keys={
            "case_id": "cases.id",
            "decision_id": "decisions.id",
            "queue_id": "queues.id",
            "correct_policy_id": "policies.id",
            "corrective_case_id": "cases.id",
        },
        indexed=("queue_id",),
        lengths={"moderator_id": 200, "reviewer_id": 200},
    ),
    sa.UniqueConstraint("case_id"),
    sa.Index("ix_qa_reviews_region_reviewed", "region", "reviewed_at"),
)

# Claim-next (``persistence.operations.claimable_case``): the queue's open cases nobody holds, in urgency order,
# straight off an index; and its open cases under a lease, by expiry, for the expired ones.
sa.Index(
    "ix_cases_claimable",
    cases.c.queue_id,
    cases.c.sla_due_at,
    cases.c.priority.desc(),
    cases.c.id,
    postgresql_where=sa.text("state IN ('OPEN', 'ASSIGNED', 'ESCALATED') AND lease_expires_at IS NULL"),
)
sa.Index(
    "ix_cases_lease_expiry",
    cases.c.queue_id,
    cases.c.lease_expires_at,
    postgresql_where=sa.text("state IN ('OPEN', 'ASSIGNED', 'ESCALATED') AND lease_expires_at IS NOT NULL"),
)
# Metrics: inflow / decided-in-window / backlog per queue and region.
sa.Index("ix_cases_queue_created", cases.c.queue_id, cases.c.created_at)
sa.Index("ix_cases_region_decided", cases.c.region, cases.c.decided_at)
sa.Index(
    "ix_cases_open_region_created",
    cases.c.region,
    cases.c.created_at,
    postgresql_where=sa.text("state IN ('OPEN', 'ASSIGNED', 'ESCALATED')"),
)
sa.Index("ix_appeals_decision_state", appeals.c.decision_id, appeals.c.state)
sa.Index("ix_decisions_region_decided_verdict", decisions.c.region, decisions.c.decided_at, decisions.c.verdict)
