"""Policies (global) and their immutable published versions; strike ladder versions (per region and surface)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.policy import Policy, PolicyVersion
from domain.strike_ladder import LadderVersion
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

strike_ladders = sa.Table(
    "strike_ladders",
    metadata,
    *entity_columns(LadderVersion, lengths={"published_by": 200}),
    sa.UniqueConstraint("region", "surface", "number"),
)
