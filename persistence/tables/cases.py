"""Reports and the cases they fold into. At most one open case per subject (a partial unique index)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.case import Case
from domain.report import Report, ReportSource
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

RARE_SOURCES = (ReportSource.TRUSTED_FLAGGER, ReportSource.INTERNAL, ReportSource.LEGAL)
"""Sources of a small share of reports (USER and AUTOMATED are the bulk): indexed apart for their listings."""
_RARE = "source IN (" + ", ".join(f"'{s.value}'" for s in RARE_SOURCES) + ")"

cases = sa.Table(
    "cases",
    metadata,
    *entity_columns(
        Case,
        foreign_keys={"queue_id": "queues.id"},
        indexed=("subject_account_id", "state", "queue_id"),
        lengths={"assignee_id": 200},
    ),
    sa.Index("ix_cases_subject", "subject_kind", "subject_id"),
    sa.Index(
        "uq_cases_one_open_per_subject",
        "subject_kind",
        "subject_id",
        unique=True,
        postgresql_where=sa.text("state IN ('OPEN', 'ASSIGNED', 'ESCALATED')"),
    ),
    sa.Index("ix_cases_region_created", "region", "created_at", "id"),
    sa.Index("ix_cases_created", "created_at", "id"),  # pages across several regions (0007)
)

reports = sa.Table(
    "reports",
    metadata,
    *entity_columns(
        Report,
        foreign_keys={"case_id": "cases.id", "policy_id": "policies.id"},
        indexed=("case_id", "policy_id"),
        lengths={"reporter_id": 200, "idempotency_key": 200},
    ),
    sa.Index("ix_reports_subject", "subject_kind", "subject_id"),
    sa.Index(
        "uq_reports_idempotency",
        "reporter_id",
        "idempotency_key",
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    ),
    sa.Index("ix_reports_reporter_created", "reporter_id", "created_at", "id"),
    sa.Index("ix_reports_region_created", "region", "created_at", "id"),
    # the rare sources' reports, newest first (``reports(filter: {source})``, which writes its source into the
    # statement's text: a plan made for any value could not use a partial index): a console's trusted flaggers' or
    # legal notices; the bulk keeps to the regions' index, and an ordinary report pays nothing for this one
    sa.Index("ix_reports_rare_source_created", "source", "created_at", "id", postgresql_where=sa.text(_RARE)),
)
