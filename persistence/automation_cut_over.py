"""The rule store of a cut-over (``domain.services.automation_cut_over.CutOverStore``): the rule store, and the rules
migrated from an automation rule."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from domain.services.rules import Rule, RuleVersion
from persistence.rules import SqlRuleStore, rule_of, version_of
from persistence.tables.rules import rule_versions, rules


class SqlCutOverStore(SqlRuleStore):
    async def migrated_from(self, automation_rule_id: uuid.UUID) -> list[tuple[Rule, RuleVersion]]:
        cited = sa.select(rule_versions.c.rule_id).where(rule_versions.c.migrated_from == automation_rule_id)
        found = (
            await self._session.execute(sa.select(rules).where(rules.c.id.in_(cited)).order_by(rules.c.name))
        ).mappings()
        visible = [rule_of(row) for row in found if self._visible(row["region"])]
        if not visible:
            return []
        keys = [sa.tuple_(sa.literal(r.id), sa.literal(r.current_version)) for r in visible]
        stmt = sa.select(rule_versions).where(sa.tuple_(rule_versions.c.rule_id, rule_versions.c.number).in_(keys))
        current = {v.rule_id: v for v in map(version_of, (await self._session.execute(stmt)).mappings())}
        return [(rule, current[rule.id]) for rule in visible]
