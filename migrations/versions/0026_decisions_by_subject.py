"""people's decisions indexed by subject, and rule snoozes by entity

The rules leave a subject alone for a while after people decided it (``persistence.rule_runtime.snoozed``): every
batch of events that names subjects asks whether a person decided any of them lately. Nothing indexed decisions by
subject, so each batch read every decision. A partial index of people's decisions (not automated ones) by subject
and time answers it with one search a subject. The same batch asks for its entities' rule snoozes, whatever the
rule (``persistence.rule_stats.rule_snoozed``), which the snoozes' key (rule first) could not answer on
PostgreSQL 15: an index by entity.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_decisions_subject_by_people",
        "decisions",
        ["subject_id", "decided_at"],
        unique=False,
        postgresql_where=sa.text("NOT automated"),
    )
    op.create_index("ix_rule_snoozes_entity", "rule_snoozes", ["region", "entity_kind", "entity_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rule_snoozes_entity", table_name="rule_snoozes")
    op.drop_index("ix_decisions_subject_by_people", table_name="decisions", postgresql_where=sa.text("NOT automated"))
