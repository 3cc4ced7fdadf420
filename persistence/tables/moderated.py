"""What is moderated: accounts, content, ads. Each is unique per (region, external_id), the platform's id."""

from __future__ import annotations

import sqlalchemy as sa

from domain.account import Account
from domain.ad import Ad
from domain.content import Content
from persistence.metadata import metadata
from persistence.tables.derive import entity_columns

accounts = sa.Table(
    "accounts",
    metadata,
    *entity_columns(Account, indexed=("status",), lengths={"external_id": 200, "handle": 200}),
    sa.UniqueConstraint("region", "external_id"),
    sa.Index("ix_accounts_region_created", "region", "created_at", "id"),
)

contents = sa.Table(
    "contents",
    metadata,
    *entity_columns(
        Content,
        foreign_keys={"owner_account_id": "accounts.id"},
        indexed=("owner_account_id", "visibility"),
        lengths={"external_id": 200},
    ),
    sa.UniqueConstraint("region", "external_id"),
    sa.Index("ix_contents_region_created", "region", "created_at", "id"),
)

ads = sa.Table(
    "ads",
    metadata,
    *entity_columns(
        Ad,
        foreign_keys={"advertiser_account_id": "accounts.id"},
        indexed=("advertiser_account_id", "review_status"),
        lengths={"external_id": 200},
    ),
    sa.UniqueConstraint("region", "external_id"),
    sa.Index("ix_ads_region_created", "region", "created_at", "id"),
)
