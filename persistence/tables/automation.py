"""Automation rules: per region, one rule per (policy, classifier)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.automation import AutomationRule
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

automation_rules = sa.Table(
    "automation_rules",
    metadata,
    *entity_columns(AutomationRule, foreign_keys={"policy_id": "policies.id"}, lengths={"classifier": 200}),
    sa.UniqueConstraint("region", "policy_id", "classifier"),
    sa.Index("ix_automation_rules_region_created", "region", "created_at", "id"),
)
