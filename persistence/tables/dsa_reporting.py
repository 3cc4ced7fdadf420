"""What the DSA transparency report counts that Vigil does not see for itself: orders of Member State authorities,
out-of-court disputes, the platform's monthly active recipients."""

from __future__ import annotations

import sqlalchemy as sa

from domain.dsa.active_recipients import ActiveRecipients
from domain.dsa.authority_order import AuthorityOrder
from domain.dsa.out_of_court_dispute import OutOfCourtDispute
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

authority_orders = sa.Table(
    "authority_orders",
    metadata,
    *entity_columns(
        AuthorityOrder,
        foreign_keys={"case_id": "cases.id"},
        lengths={"authority": 200, "reference": 200, "category": 100, "recorded_by": 200},
    ),
    sa.Index("ix_authority_orders_region_received", "region", "received_at", "id"),
)

out_of_court_disputes = sa.Table(
    "out_of_court_disputes",
    metadata,
    *entity_columns(
        OutOfCourtDispute,
        foreign_keys={"decision_id": "decisions.id"},
        indexed=("decision_id",),
        lengths={"body": 200, "recorded_by": 200},
    ),
    sa.Index("ix_out_of_court_disputes_region_submitted", "region", "submitted_at", "id"),
)

active_recipients = sa.Table(
    "active_recipients",
    metadata,
    *entity_columns(ActiveRecipients, lengths={"recorded_by": 200}),
    sa.UniqueConstraint("region", "month", "member_state"),
)
