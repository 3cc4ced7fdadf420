"""The differential harness tells engines apart: an engine altered in one respect fails the comparison."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

import persistence.prefetched
from tests.integration.differential.conftest import World
from tests.integration.differential.harness import Differential, altered
from tests.integration.differential.test_review import decide_on_bulk, decide_on_sql


async def test_audit_timestamps_taken_per_record_on_one_engine_are_caught(
    differential: Differential, world: World
) -> None:
    ticks = itertools.count()
    original = persistence.prefetched.audit_record

    def per_record(audit: Any, now: Any, *args: Any) -> Any:
        return original(audit, now + timedelta(microseconds=next(ticks)), *args)

    with altered(persistence.prefetched, "audit_record", per_record), pytest.raises(AssertionError, match="audit"):
        await differential.run(decide_on_sql(world), decide_on_bulk(world))


async def test_outbox_events_missing_on_one_engine_are_caught(differential: Differential, world: World) -> None:
    with altered(persistence.prefetched, "events_of", lambda *_: []), pytest.raises(AssertionError, match="outbox"):
        await differential.run(decide_on_sql(world), decide_on_bulk(world))
