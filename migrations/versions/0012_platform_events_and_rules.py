"""platform events and rules

Platform events (``platform_events``, partitioned by month on ``occurred_at``; partitions live in the schema
``platform_event_partitions``, created on demand and dropped whole by retention) and their idempotency keys
(``platform_event_keys``: not partitioned, so a key is unique whatever month its event falls in). Enforcement
rules: ``rules`` and one ``rule_versions`` row per change (text, state, settings), named lists with versioned
entries, the hits rules record, entity labels, the daily action tallies behind caps and circuit breakers, per-entity
snoozes, and the PostgreSQL counter store (``counter_members``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:55:00.000000
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITION_SCHEMA = "platform_event_partitions"
AUTHOR = "migration:0012"


def _number(value: float) -> str:
    """A float as the rules language writes numbers (no exponent), parsing back to the same float."""
    text = format(Decimal(repr(float(value))), "f")
    return text if "." in text else f"{text}.0"


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def threshold_sources(
    rule_id: uuid.UUID, region: str, code: str, classifier: str, enqueue: float, decide: float, actions: list[str]
) -> tuple[tuple[str, str], tuple[str, str]]:
    """An automation rule as two rules of the language, (name, text) each: at or above ``decide`` it decides with
    its actions; from ``enqueue`` up to ``decide`` it opens a case for a human (an AUTOMATED report, as before)."""
    base = f"threshold {code} {classifier[:100]} {rule_id.hex[:8]}"
    head = f"on signal.submitted\nin {region}\npolicy {code}\n"
    signal = f"signal({_string(classifier)})"
    match = f"classifier == {_string(classifier)} and policy_code == {_string(code)}"
    decided = ", ".join(_string(a) for a in actions)
    decide_text = (
        f"rule {_string(base + ' decide')}\n{head}when {match} and {signal} >= {_number(decide)}\n"
        f"then decide({decided})\n"
    )
    enqueue_text = (
        f"rule {_string(base + ' enqueue')}\n{head}"
        f"when {match} and {signal} >= {_number(enqueue)} and {signal} < {_number(decide)}\n"
        'then open_case(queue="automation", priority=50)\n'
    )
    return (f"{base} decide", decide_text), (f"{base} enqueue", enqueue_text)


def _migrate_threshold_rules() -> None:
    """Every automation rule becomes two rules (decide, enqueue), SHADOW if it was enabled, DISABLED otherwise,
    version 1 citing it (``migrated_from``). They meet ``signal.submitted`` events, which only Vigil's own signal
    intake produces (platforms cannot send that type), beside the automation rule that still acts: their hits are
    recorded for comparison until a policy manager makes them LIVE and the automation rule is disabled."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.region, p.code, a.classifier, a.enqueue_threshold, a.decide_threshold, a.actions, "
            "a.enabled, a.policy_id FROM automation_rules a JOIN policies p ON p.id = a.policy_id ORDER BY a.created_at"
        )
    ).mappings()
    now = datetime.now(UTC)
    for row in list(rows):
        state = "SHADOW" if row["enabled"] else "DISABLED"
        for name, text in threshold_sources(
            row["id"],
            row["region"],
            row["code"],
            row["classifier"],
            row["enqueue_threshold"],
            row["decide_threshold"],
            list(row["actions"]),
        ):
            rule_id = uuid.uuid4()
            bind.execute(
                sa.text(
                    "INSERT INTO rules (id, region, name, state, current_version, created_at, updated_at, version) "
                    "VALUES (:id, :region, :name, :state, 1, :now, :now, 1)"
                ),
                {"id": rule_id, "region": row["region"], "name": name, "state": state, "now": now},
            )
            bind.execute(
                sa.text(
                    "INSERT INTO rule_versions (id, rule_id, number, state, source, description, policy_id, "
                    "author_id, migrated_from, created_at) VALUES (:id, :rule_id, 1, :state, :source, :description, "
                    ":policy_id, :author, :migrated_from, :now)"
                ),
                {
                    "id": uuid.uuid4(),
                    "rule_id": rule_id,
                    "state": state,
                    "source": text,
                    "description": "Migrated from an automation rule (classifier thresholds).",
                    "policy_id": row["policy_id"],
                    "author": AUTHOR,
                    "migrated_from": row["id"],
                    "now": now,
                },
            )


def upgrade() -> None:
    op.create_table(
        "counter_members",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("entity_kind", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "entity_kind", "entity_id", "member", name=op.f("pk_counter_members")),
    )
    op.create_index("ix_counter_members_at", "counter_members", ["at"], unique=False)
    op.create_index(
        "ix_counter_members_window", "counter_members", ["source", "entity_kind", "entity_id", "at"], unique=False
    )
    op.create_table(
        "entity_snoozes",
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("entity_kind", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region", "entity_kind", "entity_id", name=op.f("pk_entity_snoozes")),
    )
    op.create_table(
        "named_lists",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("kind IN ('keyword', 'domain', 'url')", name=op.f("ck_named_lists_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_lists")),
        sa.UniqueConstraint("region", "name", name=op.f("uq_named_lists_region_name")),
    )
    op.create_index(op.f("ix_named_lists_region"), "named_lists", ["region"], unique=False)
    op.create_table(
        "platform_event_keys",
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("region", "idempotency_key", name=op.f("pk_platform_event_keys")),
    )
    op.create_index(op.f("ix_platform_event_keys_occurred_at"), "platform_event_keys", ["occurred_at"], unique=False)
    op.create_table(
        "platform_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("entities", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", "occurred_at", name=op.f("pk_platform_events")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("ix_platform_events_region_occurred", "platform_events", ["region", "occurred_at"], unique=False)
    op.create_table(
        "rule_action_tallies",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("action_kind", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "region", "rule_id", "action_kind", name=op.f("pk_rule_action_tallies")),
    )
    op.create_table(
        "rules",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("state IN ('DRAFT', 'SHADOW', 'LIVE', 'DISABLED')", name=op.f("ck_rules_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
        sa.UniqueConstraint("region", "name", name=op.f("uq_rules_region_name")),
    )
    op.create_index(op.f("ix_rules_region"), "rules", ["region"], unique=False)
    op.create_index("ix_rules_region_created", "rules", ["region", "created_at", "id"], unique=False)
    op.create_table(
        "labels",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("entity_kind", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_labels_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint(
            "region", "entity_kind", "entity_id", "name", name=op.f("uq_labels_region_entity_kind_entity_id_name")
        ),
    )
    op.create_index(op.f("ix_labels_region"), "labels", ["region"], unique=False)
    op.create_table(
        "named_list_entries",
        sa.Column("list_id", sa.UUID(), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("added_in", sa.Integer(), nullable=False),
        sa.Column("removed_in", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["named_lists.id"], name=op.f("fk_named_list_entries_list_id_named_lists")
        ),
        sa.PrimaryKeyConstraint("list_id", "value", "added_in", name=op.f("pk_named_list_entries")),
    )
    op.create_index(
        "ix_named_list_entries_current",
        "named_list_entries",
        ["list_id"],
        unique=False,
        postgresql_where=sa.text("removed_in IS NULL"),
    )
    op.create_table(
        "named_list_versions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("list_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["named_lists.id"], name=op.f("fk_named_list_versions_list_id_named_lists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_list_versions")),
        sa.UniqueConstraint("list_id", "number", name=op.f("uq_named_list_versions_list_id_number")),
    )
    op.create_table(
        "rule_hits",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("event_occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("actions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('SHADOW', 'LIVE')", name=op.f("ck_rule_hits_mode")),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_hits_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_hits")),
    )
    op.create_index(op.f("ix_rule_hits_region"), "rule_hits", ["region"], unique=False)
    op.create_index("ix_rule_hits_rule_created", "rule_hits", ["rule_id", "created_at", "id"], unique=False)
    op.create_table(
        "rule_versions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("policy_id", sa.UUID(), nullable=True),
        sa.Column("daily_action_cap", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("migrated_from", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('DRAFT', 'SHADOW', 'LIVE', 'DISABLED')", name=op.f("ck_rule_versions_state")),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], name=op.f("fk_rule_versions_policy_id_policies")),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_versions_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_versions")),
        sa.UniqueConstraint("rule_id", "number", name=op.f("uq_rule_versions_rule_id_number")),
    )
    op.create_index(op.f("ix_rule_versions_policy_id"), "rule_versions", ["policy_id"], unique=False)
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}")
    _migrate_threshold_rules()


def downgrade() -> None:
    op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")
    op.drop_index(op.f("ix_rule_versions_policy_id"), table_name="rule_versions")
    op.drop_table("rule_versions")
    op.drop_index("ix_rule_hits_rule_created", table_name="rule_hits")
    op.drop_index(op.f("ix_rule_hits_region"), table_name="rule_hits")
    op.drop_table("rule_hits")
    op.drop_table("named_list_versions")
    op.drop_index(
        "ix_named_list_entries_current", table_name="named_list_entries", postgresql_where=sa.text("removed_in IS NULL")
    )
    op.drop_table("named_list_entries")
    op.drop_index(op.f("ix_labels_region"), table_name="labels")
    op.drop_table("labels")
    op.drop_index("ix_rules_region_created", table_name="rules")
    op.drop_index(op.f("ix_rules_region"), table_name="rules")
    op.drop_table("rules")
    op.drop_table("rule_action_tallies")
    op.drop_index("ix_platform_events_region_occurred", table_name="platform_events")
    op.drop_table("platform_events")
    op.drop_index(op.f("ix_platform_event_keys_occurred_at"), table_name="platform_event_keys")
    op.drop_table("platform_event_keys")
    op.drop_index(op.f("ix_named_lists_region"), table_name="named_lists")
    op.drop_table("named_lists")
    op.drop_table("entity_snoozes")
    op.drop_index("ix_counter_members_window", table_name="counter_members")
    op.drop_index("ix_counter_members_at", table_name="counter_members")
    op.drop_table("counter_members")
