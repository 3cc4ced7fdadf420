"""Policies (global) and their immutable published versions."""

from __future__ import annotations

import sqlalchemy as sa

from domain.policy import Policy, PolicyVersion
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

policies = sa.Table(
    "policies",
    metadata,
    *entity_columns(Policy, indexed=("surface",), lengths={"code": 64}),
    sa.UniqueConstraint("code"),
)

policy_versions = sa.Table(
    "policy_versions",
    metadata,
    *entity_columns(PolicyVersion, foreign_keys={"policy_id": "policies.id"}),
    sa.UniqueConstraint("policy_id", "number"),
)
