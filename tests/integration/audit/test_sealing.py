"""Sealing after commit, and verification that catches tampering behind the database's back."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from persistence.audit import GENESIS, AuditSealer, seal_all, seal_pending, verify, write_events
from persistence.db import SessionFactory
from tests.integration.audit.conftest import event, superuser_sql, write


async def _verify(sessions: SessionFactory):  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await verify(session)


async def _seals(sessions: SessionFactory) -> list[tuple[int, int]]:
    async with sessions() as session:
        rows = await session.execute(sa.text("SELECT position, event_seq FROM audit_seals ORDER BY position"))
        return [(r.position, r.event_seq) for r in rows]


async def test_an_empty_trail_verifies(sessions: SessionFactory) -> None:
    result = await _verify(sessions)
    assert (result.ok, result.events_checked, result.head_position, result.head_hash) == (True, 0, 0, GENESIS)


async def test_seals_in_order_and_verifies(sessions: SessionFactory) -> None:
    await write(sessions, [event(n) for n in range(1, 8)])
    assert await seal_all(sessions, batch=3) == 7
    assert await seal_all(sessions) == 0
    assert await _seals(sessions) == [(n, n) for n in range(1, 8)]
    result = await _verify(sessions)
    assert (result.ok, result.events_checked, result.head_position, result.unsealed) == (True, 7, 7, 0)


async def test_unsealed_events_are_counted_not_checked(sessions: SessionFactory) -> None:
    await write(sessions, [event(1), event(2)])
    await seal_all(sessions)
    await write(sessions, [event(3)])
    result = await _verify(sessions)
    assert (result.ok, result.events_checked, result.unsealed) == (True, 2, 1)


async def test_a_late_commit_is_sealed_in_a_later_batch(sessions: SessionFactory) -> None:
    """seq 1 is taken by a transaction that commits after seq 2 was written and sealed."""
    async with sessions() as slow:
        await slow.begin()
        await write_events(slow, [event(1)])
        await write(sessions, [event(2)])
        await seal_all(sessions)
        assert await _seals(sessions) == [(1, 2)]
        await slow.commit()
    await seal_all(sessions, lookback=10)
    assert await _seals(sessions) == [(1, 2), (2, 1)]
    assert (await _verify(sessions)).ok


async def test_routine_passes_look_back_a_bounded_window(sessions: SessionFactory) -> None:
    async with sessions() as slow:
        await slow.begin()
        await write_events(slow, [event(1)])
        await write(sessions, [event(n) for n in range(2, 8)])
        await seal_all(sessions)
        await slow.commit()
    assert await seal_all(sessions, lookback=3) == 0  # seq 1 lies below max sealed (7) - 3
    assert await seal_all(sessions, lookback=None) == 1  # a full pass finds it


async def test_a_busy_sealer_is_skipped_not_waited_for(sessions: SessionFactory) -> None:
    await write(sessions, [event(1)])
    async with sessions() as holder, holder.begin():
        await seal_pending(holder)  # holds the sealing lock until this transaction ends
        async with sessions() as other, other.begin():
            assert await seal_pending(other, wait=False) == 0
    assert await _seals(sessions) == [(1, 1)]


async def test_concurrent_sealers_never_double_seal(sessions: SessionFactory) -> None:
    await write(sessions, [event(n) for n in range(1, 41)])
    results = await asyncio.gather(*(seal_all(sessions, batch=7) for _ in range(4)))
    assert sum(results) == 40
    assert await _seals(sessions) == [(n, n) for n in range(1, 41)]
    assert (await _verify(sessions)).ok


async def test_the_background_sealer_seals_after_commit(sessions: SessionFactory) -> None:
    sealer = AuditSealer(sessions, interval=0.05)
    sealer.start()
    try:
        await write(sessions, [event(1), event(2)])
        for _ in range(100):
            if len(await _seals(sessions)) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await sealer.stop()
    assert await _seals(sessions) == [(1, 1), (2, 2)]
    assert sealer.passes >= 1


async def test_interval_zero_disables_the_sealer(sessions: SessionFactory) -> None:
    sealer = AuditSealer(sessions, interval=0)
    sealer.start()
    await write(sessions, [event(1)])
    await asyncio.sleep(0.1)
    await sealer.stop()
    assert (sealer.passes, await _seals(sessions)) == (0, [])


# -- tampering ---------------------------------------------------------------------------------------------
async def _sealed_trail(sessions: SessionFactory, n: int = 10) -> None:
    await write(sessions, [event(i) for i in range(1, n + 1)])
    await seal_all(sessions)
    assert (await _verify(sessions)).ok


async def test_altering_an_early_event_is_caught(sessions: SessionFactory) -> None:
    await _sealed_trail(sessions)
    await superuser_sql(sessions, "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 2")
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_seq, result.events_checked) == (False, 2, 1)
    assert "event 2 was altered" in (result.problem or "")


async def test_altering_an_event_and_its_hash_is_caught(sessions: SessionFactory) -> None:
    await _sealed_trail(sessions)
    await superuser_sql(
        sessions,
        "UPDATE audit_events SET reason = 'fine', event_hash = (SELECT event_hash FROM audit_events WHERE seq = 4)"
        " WHERE seq = 3",
    )
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_seq) == (False, 3)


async def test_deleting_an_early_event_is_caught(sessions: SessionFactory) -> None:
    await _sealed_trail(sessions)
    await superuser_sql(sessions, "DELETE FROM audit_events WHERE seq = 2")
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_seq, result.problem) == (False, 2, "event 2 was deleted")


async def test_deleting_an_event_and_its_seal_is_caught(sessions: SessionFactory) -> None:
    await _sealed_trail(sessions)
    await superuser_sql(
        sessions, "DELETE FROM audit_seals WHERE event_seq = 3", "DELETE FROM audit_events WHERE seq = 3"
    )
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert "seal position 3 is missing" in (result.problem or "")


async def test_swapping_two_events_is_caught(sessions: SessionFactory) -> None:
    """Swap the seal pointers of positions 2 and 3: each event still matches its own hash, the chain does not."""
    await _sealed_trail(sessions)
    await superuser_sql(
        sessions,
        "UPDATE audit_seals SET event_seq = -1 WHERE position = 2",
        "UPDATE audit_seals SET event_seq = 2 WHERE position = 3",
        "UPDATE audit_seals SET event_seq = 3 WHERE position = 2",
    )
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_seq) == (False, 3)
