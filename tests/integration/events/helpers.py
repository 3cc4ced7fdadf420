"""Shared by the platform-event tests: the mutation, an event as the API takes it, reading the log back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from persistence.fast.sql import asyncpg_dsn

NOW = datetime.now(UTC).replace(microsecond=0)
"""When the helpers' events happened unless told otherwise: one instant, so a re-sent event is the same event."""

SUBMIT = """
mutation($events: [SubmitEventInput!]!) {
  submitEvents(input: {events: $events}) {
    __typename
    ... on SubmitEventsSuccess {
      results { __typename ... on SubmitEventSuccess { eventId duplicate } ... on Error { code message field } }
    }
    ... on Error { code message field }
  }
}
"""


def event(
    key: str,
    *,
    region: str = "US",
    account: str = "u-1",
    text: str = "hello",
    at: datetime | None = None,
    type: str = "content.posted",
    **extra: Any,
) -> dict[str, Any]:
    entities = [{"kind": "ACCOUNT", "externalId": account}]
    if type.startswith("content."):
        entities.append({"kind": "CONTENT", "externalId": f"p-{key}"})
    return {
        "type": type,
        "region": region,
        "entities": entities,
        "occurredAt": (at or NOW).isoformat(),
        "idempotencyKey": key,
        "attributes": {"text": text, **extra},
    }


async def fetch(db_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()
