"""``PostgresEventLog.append`` on its own: each event's outcome at its position (new, a duplicate of the first
event with its key, or refused for a key first used for other content), whatever the mix, with the backlog row and
the audit records that say so, in the append's one transaction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from domain.region import Region
from domain.services.events import Accepted, NewEvent, SubmitEvent, check_event
from persistence.events import PostgresEventLog
from persistence.fast.sql import create_pool
from persistence.uow import AuditContext
from tests.integration.events.helpers import fetch

NOW = datetime.now(UTC).replace(microsecond=0)
AUDIT = AuditContext(actor_kind="SYSTEM", actor_id="test", operation="submitEvents")


def _new(key: str, region: Region = Region.US, text: str = "hello", index: int = 0) -> NewEvent:
    command = SubmitEvent("content.posted", region, {"account": "u-1", "content": f"c-{key}"}, {"text": text}, NOW, key)
    return check_event(command, index=index, now=NOW, may_submit=lambda _: True)


async def test_each_position_gets_its_outcome_whatever_the_mix(db_url: str) -> None:
    pool = await create_pool(db_url, size=2)
    try:
        first = [_new("a"), _new("b"), _new("c", Region.EU)]
        log = PostgresEventLog(pool, AUDIT, backlog="submitEvents")
        before = await log.append(first, "s-1", NOW)
        assert [(r.event_id, r.duplicate) for r in before if r is not None] == [(e.id, False) for e in first]
        assert log.backlogged

        # new, duplicate of a, refused (b with other content), new, a key repeated in the batch, duplicate of c (EU)
        second = [_new("d"), _new("a"), _new("b", text="other"), _new("e", Region.EU), _new("d"), _new("c", Region.EU)]
        log2 = PostgresEventLog(pool, AUDIT, backlog=None)
        results = await log2.append(second, "s-1", NOW + timedelta(seconds=1))
        assert not log2.backlogged  # no backlog source: no row
        summary = [None if r is None else (r.event_id, r.duplicate) for r in results]
        assert summary == [
            (second[0].id, False),
            (first[0].id, True),
            None,
            (second[3].id, False),
            (second[0].id, True),
            (first[2].id, True),
        ]
        assert all(r is None or r.event is e.event for r, e in zip(results, second, strict=True))

        all_dupes = await PostgresEventLog(pool, AUDIT).append([_new("a"), _new("e", Region.EU)], "s-1", NOW)
        assert [r.duplicate for r in all_dupes if isinstance(r, Accepted)] == [True, True]
    finally:
        await pool.close()

    rows = await fetch(db_url, "SELECT id, batch_id FROM platform_events")
    assert len(rows) == 5
    assert {r["batch_id"] for r in rows} == {log.batch_id, log2.batch_id}
    backlog = await fetch(db_url, "SELECT id, source, event_ids FROM rule_backlog")
    assert [(r["id"], r["source"], sorted(r["event_ids"])) for r in backlog] == [
        (log.batch_id, "submitEvents", sorted(e.id for e in first))
    ]
    audits = await fetch(
        db_url, "SELECT subject_id, region, after FROM audit_events WHERE subject_kind = 'PlatformEventBatch'"
    )
    by_batch = {(a["subject_id"], a["region"]): json.loads(a["after"]) for a in audits}
    second_us = by_batch[(str(log2.batch_id), "US")]
    second_eu = by_batch[(str(log2.batch_id), "EU")]
    assert {k: second_us[k] for k in ("accepted", "duplicates", "refused", "types")} == {
        "accepted": 1,
        "duplicates": 2,
        "refused": 1,
        "types": {"content.posted": 1},
    }
    assert {k: second_eu[k] for k in ("accepted", "duplicates", "refused", "types")} == {
        "accepted": 1,
        "duplicates": 1,
        "refused": 0,
        "types": {"content.posted": 1},
    }
    assert len(by_batch) == 2 + 2 + 2
    assert uuid.UUID(second_us["batch_id"]) == log2.batch_id


async def test_what_is_stored_is_what_was_sent_to_the_microsecond_and_character(db_url: str) -> None:
    """The batch travels as one JSON parameter: ids, keys, entity ids and attributes with quotes, backslashes,
    non-ASCII and astral characters, numbers past 64 bits, and times with fractions and offsets come back equal."""
    from dateutil import tz

    odd = 'q"uo\\te é 😀 \u2028 </script>'
    at = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=tz.tzoffset(None, -5 * 3600 - 30 * 60))
    attributes = {"text": odd, "n": 2**70, "f": 0.1, "ok": True, "none": None, "tags": [odd, "b"]}
    command = SubmitEvent("content.posted", Region.EU, {"account": odd, "content": "c-ø"}, attributes, at, odd)
    new = check_event(command, index=0, now=datetime(2026, 12, 2, tzinfo=UTC), may_submit=lambda _: True)
    pool = await create_pool(db_url, size=1)
    try:
        [accepted] = await PostgresEventLog(pool, AUDIT).append([new], "s-odd", NOW)
    finally:
        await pool.close()
    assert accepted is not None
    [row] = await fetch(
        db_url,
        "SELECT e.id, e.region, e.type, e.idempotency_key, e.occurred_at, e.entities::text, e.attributes::text,"
        " k.digest, k.occurred_at AS key_at FROM platform_events e"
        " JOIN platform_event_keys k ON k.event_id = e.id WHERE e.source_id = 's-odd'",
    )
    assert row["id"] == new.id
    assert (row["region"], row["type"], row["idempotency_key"]) == ("EU", "content.posted", odd)
    assert row["occurred_at"] == at
    assert row["key_at"] == at
    assert json.loads(row["entities"]) == {"account": odd, "content": "c-ø"}
    assert json.loads(row["attributes"]) == attributes
    assert row["digest"] == new.digest
