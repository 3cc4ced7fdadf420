"""The audit hash chain's known-answer vector (issue 20 point 7): fixed events, their exact event hashes and chain
hashes, written down once from the code of 2026-12-06. Every stored trail was hashed this way; a change to the
canonical form, the fields hashed, the time format or the chain link would pass every other test while each
stored trail failed `vigil audit verify`. If one of these fails, the format changed: that needs a migration of
the stored trails, not a new vector.

`tests/integration/test_audit_known_answer.py` stores the same events in PostgreSQL and runs `vigil audit verify`
over them."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from persistence.audit import GENESIS, AuditRecord, _seal_problem, canonical, chain_hash, row_for

UUID = "0b7c2f4e-1d2a-4e8b-9f00-00000000000"

EVENTS = (
    AuditRecord(
        occurred_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        actor_kind="STAFF",
        actor_id="admin-global",
        action="definePolicy",
        subject_kind="Policy",
        subject_id=UUID + "1",
        region=None,
        request_id="req-1",
        after={"code": "HATE_SPEECH", "current_version": 1, "severity": "HIGH"},
    ),
    AuditRecord(  # another zone (the same instant in UTC is hashed), non-ASCII text, a float, lists, nesting
        occurred_at=datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=1))),
        actor_kind="PARTNER",
        actor_id="partner:platform",
        action="submitReport",
        subject_kind="Report",
        subject_id=UUID + "2",
        region="EU",
        request_id="4bf92f3577b34da6a3ce929d0e0e4736",
        after={
            "text": "Ça « dépasse » les bornes \u2014 \U0001f600",
            "reach": 12000,
            "score": 0.75,
            "tags": ["a", "b"],
            "nested": {"z": None, "a": True},
        },
    ),
    AuditRecord(  # a reason with escapes, before and after, a datetime and a UUID inside the payload
        occurred_at=datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
        actor_kind="STAFF",
        actor_id="moderator-EU",
        action="decideCase",
        subject_kind="Case",
        subject_id=UUID + "3",
        region="EU",
        request_id=None,
        reason='line one\nline "two"',
        before={"state": "ASSIGNED", "version": 3},
        after={
            "state": "DECIDED",
            "version": 4,
            "decided_at": datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
            "id": uuid.UUID(int=42),
        },
    ),
)

FIRST_CANONICAL = (
    b'{"action":"definePolicy","actor_id":"admin-global","actor_kind":"STAFF",'
    b'"after":{"code":"HATE_SPEECH","current_version":1,"severity":"HIGH"},"before":null,'
    b'"occurred_at":"2026-03-01T08:00:00.000000+00:00","reason":null,"region":null,"request_id":"req-1",'
    b'"subject_id":"0b7c2f4e-1d2a-4e8b-9f00-000000000001","subject_kind":"Policy"}'
)
EVENT_HASHES = (
    "3b2f72986fba5f727b6cc04381e647b18d51cd1e99c637cf78de61d9583b6ff0",
    "9ba5e96493471a0694a5276aa2fc4282a1115764e5f167d24ec7b71b08cceb36",
    "8ced63fde00cc815841825bc1eee814cb01b22a20bbc94b54b79aa194671b4bc",
)
# The events' seq numbers: gaps, as rolled-back transactions leave them, so that position and seq differ.
SEQS = (7, 8, 12)
# Seal n (position n, from the genesis hash) over the nth event.
CHAIN_HASHES = (
    "421c53395fa29f6856d0f164eaf8a1eb4de00399dfdb225a64e0df4aa5c3ec0b",
    "5ef9c112ea7c223c5a332af3cc6f5fd9bd3a0721d76cf1d0754e1a5c6984ff94",
    "50c6b0009aa64cec2e1b4d7a0d48f5016018ce10c29b24839761a91c26673e9e",
)
HEAD = CHAIN_HASHES[-1]


def test_the_canonical_form_of_an_event() -> None:
    row = row_for(EVENTS[0])
    hashed = {k: v for k, v in row.items() if k != "event_hash"}
    hashed["occurred_at"] = "2026-03-01T08:00:00.000000+00:00"
    assert canonical(hashed) == FIRST_CANONICAL
    assert hashlib.sha256(FIRST_CANONICAL).hexdigest() == EVENT_HASHES[0]


@pytest.mark.parametrize("index", range(len(EVENTS)))
def test_event_hashes(index: int) -> None:
    assert row_for(EVENTS[index])["event_hash"] == EVENT_HASHES[index]


def test_chain_hashes() -> None:
    prev = GENESIS
    for position, (seq, ev_hash, expected) in enumerate(zip(SEQS, EVENT_HASHES, CHAIN_HASHES, strict=True), start=1):
        assert chain_hash(prev, position, seq, ev_hash) == expected
        prev = expected
    # the link's text, spelled out: previous hash, position, seq, event hash
    assert CHAIN_HASHES[0] == hashlib.sha256(f"{'0' * 64}:1:7:{EVENT_HASHES[0]}".encode()).hexdigest()


def stored_trail() -> list[dict[str, Any]]:
    """The rows `persistence.audit.verify` reads for these events (seal joined to event), as PostgreSQL hands them
    back: JSONB as JSON-native values, timestamps in UTC."""
    rows = []
    prev = GENESIS
    for position, (seq, event, chained) in enumerate(zip(SEQS, EVENTS, CHAIN_HASHES, strict=True), start=1):
        row = row_for(event)
        row["occurred_at"] = row["occurred_at"].astimezone(UTC)
        for field in ("before", "after"):
            row[field] = json.loads(json.dumps(row[field]))
        row.update(seq=seq, position=position, event_seq=seq, prev_hash=prev, chain_hash=chained)
        rows.append(row)
        prev = chained
    return rows


def _verify(rows: list[Mapping[str, Any]]) -> tuple[str, str | None]:
    """`verify`'s walk over rows already read: (head chain hash, the first problem)."""
    prev = GENESIS
    for position, row in enumerate(rows, start=1):
        problem = _seal_problem(row, position, prev)
        if problem is not None:
            return prev, problem
        prev = row["chain_hash"]
    return prev, None


def test_verify_accepts_the_stored_vector_and_reaches_its_head() -> None:
    assert _verify(stored_trail()) == (HEAD, None)


def test_verify_refuses_the_vector_with_one_field_changed() -> None:
    rows = stored_trail()
    rows[1]["after"] = {**rows[1]["after"], "reach": 12001}
    assert _verify(rows) == (CHAIN_HASHES[0], "event 8 was altered (its fields no longer match its hash)")
