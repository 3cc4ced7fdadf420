"""The differential harness tells engines apart: an engine whose write is altered in one respect fails it.

Both engines build their change set the same way (``persistence.changeset``); what is left to differ is how
each writes it, so these alter one engine's writing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

import persistence.fast.prefetched
import persistence.uow
from tests.integration.differential.conftest import World
from tests.integration.differential.harness import Differential, altered
from tests.integration.differential.test_review import decide_on_bulk, decide_on_sql


async def test_audit_timestamps_taken_per_record_by_one_engine_are_caught(
    differential: Differential, world: World
) -> None:
    original = persistence.fast.prefetched.audit_arrays

    def per_record(records: list[Any]) -> Any:
        shifted = [
            dataclasses.replace(r, occurred_at=r.occurred_at + timedelta(microseconds=i)) for i, r in enumerate(records)
        ]
        return original(shifted)

    with altered(persistence.fast.prefetched, "audit_arrays", per_record), pytest.raises(AssertionError, match="audit"):
        await differential.run(decide_on_sql(world), decide_on_bulk(world))


async def test_outbox_events_one_engine_does_not_write_are_caught(differential: Differential, world: World) -> None:
    async def nothing(*_: Any) -> None:
        return None

    with altered(persistence.uow, "write_outbox", nothing), pytest.raises(AssertionError, match="outbox"):
        await differential.run(decide_on_sql(world), decide_on_bulk(world))
