"""Outcomes: decisions, the enforcement actions they carry, strikes, appeals."""

from __future__ import annotations

import sqlalchemy as sa

from domain.appeal import Appeal
from domain.decision import Decision
from domain.dsa.statement import StatementOfReasons
from domain.enforcement import EnforcementAction
from domain.strike import Strike
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

decisions = sa.Table(
    "decisions",
    metadata,
    *entity_columns(
        Decision,
        foreign_keys={
            "case_id": "cases.id",
            "policy_id": "policies.id",
            "policy_version_id": "policy_versions.id",
            "ladder_version_id": "strike_ladders.id",
        },
        indexed=("case_id", "subject_account_id", "policy_id"),
        lengths={"decider_id": 200},
    ),
    sa.Index("ix_decisions_region_decided", "region", "decided_at"),
    # whether people decided a subject lately (the rules leave it alone: ``persistence.rule_runtime.snoozed``, on
    # every batch of events that name subjects)
    sa.Index("ix_decisions_subject_by_people", "subject_id", "decided_at", postgresql_where=sa.text("NOT automated")),
    # one decider's decisions, newest first (``decisions(filter: {deciderId})``: a QA reviewer's or a lead's look at
    # one moderator's work, a rule's automated decisions); without it the page walked every decision of its regions
    sa.Index("ix_decisions_decider_decided", "decider_id", "decided_at", "id"),
)

enforcement_actions = sa.Table(
    "enforcement_actions",
    metadata,
    *entity_columns(EnforcementAction, foreign_keys={"decision_id": "decisions.id"}, indexed=("decision_id",)),
    # the target's id first: an account's actions are read by its id alone (its status; a bulk chunk's prefetch),
    # which PostgreSQL 15 cannot find through an index that leads with the kind
    sa.Index("ix_enforcement_actions_target", "target_id", "target_kind"),
)

strikes = sa.Table(
    "strikes",
    metadata,
    *entity_columns(
        Strike,
        foreign_keys={
            "account_id": "accounts.id",
            "policy_id": "policies.id",
            "policy_version_id": "policy_versions.id",
            "decision_id": "decisions.id",
        },
        indexed=("account_id", "decision_id"),
    ),
    sa.Index("ix_strikes_region_created", "region", "created_at", "id"),
    # one policy's strikes, newest first (``strikes(filter: {policyId})``)
    sa.Index("ix_strikes_policy_created", "policy_id", "created_at", "id"),
)

appeals = sa.Table(
    "appeals",
    metadata,
    *entity_columns(
        Appeal,
        foreign_keys={"decision_id": "decisions.id", "appellant_account_id": "accounts.id", "queue_id": "queues.id"},
        indexed=("appellant_account_id", "state"),
        lengths={"filed_by": 200, "decider_id": 200, "assignee_id": 200},
    ),
    sa.UniqueConstraint("decision_id"),
    sa.Index("ix_appeals_region_created", "region", "created_at", "id"),
    # claimNextAppeal: a queue's PENDING appeals, most overdue first (persistence.operations.claimable_appeal)
    sa.Index(
        "ix_appeals_queue_claim",
        "queue_id",
        "sla_due_at",
        "filed_at",
        postgresql_where=sa.text("state = 'PENDING'"),
    ),
)

statements_of_reasons = sa.Table(
    "statements_of_reasons",
    metadata,
    *entity_columns(
        StatementOfReasons,
        foreign_keys={"decision_id": "decisions.id"},
        lengths={"puid": 500, "database_id": 64},
    ),
    sa.UniqueConstraint("decision_id"),
    sa.UniqueConstraint("puid"),
    sa.Index("ix_statements_of_reasons_submission", "submission", "created_at"),
    sa.Index("ix_statements_of_reasons_region_created", "region", "created_at"),
)
