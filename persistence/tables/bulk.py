"""Bulk jobs and their items (one row per case a job decides)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.bulk import BulkJob, BulkJobItem
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

bulk_jobs = sa.Table(
    "bulk_jobs",
    metadata,
    *entity_columns(
        BulkJob,
        foreign_keys={"policy_id": "policies.id"},
        lengths={
            "actor_id": 200,
            "principal_kind": 16,
            "request_id": 64,
            "lease_owner": 200,
            "traceparent": 64,
        },
    ),
    sa.Index("ix_bulk_jobs_running", "lease_expires_at", postgresql_where=sa.text("state = 'RUNNING'")),
)

bulk_job_items = sa.Table(
    "bulk_job_items",
    metadata,
    *entity_columns(
        BulkJobItem,
        foreign_keys={"job_id": "bulk_jobs.id"},
        lengths={"error_code": 32, "error_field": 64, "skipped_ladder_step": 32},
    ),
    sa.UniqueConstraint("job_id", "position"),
    sa.Index("ix_bulk_job_items_pending", "job_id", "position", postgresql_where=sa.text("state = 'PENDING'")),
)
