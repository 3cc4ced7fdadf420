"""A request's loaders share one future per key: a cancelled reader never cancels it for the others."""

from __future__ import annotations

import asyncio
import gc

import pytest

from api.graphql.shared.dataloader import DataLoader


async def _slow_values(keys: list[int]) -> list[int]:
    await asyncio.sleep(0.01)
    return [k * 10 for k in keys]


@pytest.mark.parametrize("cancelled_reads", ["load", "load_many"])
def test_cancelling_one_reader_leaves_the_shared_keys_to_the_others(cancelled_reads: str) -> None:
    async def scenario() -> list[int]:
        loader: DataLoader[int, int] = DataLoader(load_fn=_slow_values)

        async def read_then_get_cancelled() -> object:
            if cancelled_reads == "load":
                return await loader.load(1)
            return await loader.load_many([1, 2])

        doomed = asyncio.ensure_future(read_then_get_cancelled())
        survivor = asyncio.ensure_future(loader.load_many([1, 2, 3]))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return await survivor

    assert asyncio.run(scenario()) == [10, 20, 30]


def test_load_many_answers_in_the_order_asked() -> None:
    async def scenario() -> list[int]:
        loader: DataLoader[int, int] = DataLoader(load_fn=_slow_values)
        return await loader.load_many([3, 1, 2])

    assert asyncio.run(scenario()) == [30, 10, 20]


def test_a_failed_batch_fails_load_many_and_leaves_no_unretrieved_exception(caplog: pytest.LogCaptureFixture) -> None:
    async def failing(keys: list[int]) -> list[int]:
        raise RuntimeError("the batch failed")

    async def scenario() -> None:
        loader: DataLoader[int, int] = DataLoader(load_fn=failing)
        with pytest.raises(RuntimeError, match="the batch failed"):
            await loader.load_many([1, 2, 3])
        loader.clear_all()

    with caplog.at_level("ERROR", logger="asyncio"):
        asyncio.run(scenario())
        gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


def test_load_many_joins_the_batch_load_joins_and_shares_the_cached_futures() -> None:
    batches: list[list[int]] = []

    async def values(keys: list[int]) -> list[int]:
        batches.append(list(keys))
        return [k * 10 for k in keys]

    async def scenario() -> tuple[list[int], int, list[int], list[int]]:
        loader: DataLoader[int, int] = DataLoader(load_fn=values)
        single = loader.load(2)
        many = loader.load_many([1, 2, 3, 1])  # the same turn of the loop: one batch; 1 and 2 asked once
        first, one = await many, await single
        again = await loader.load_many([3, 4])  # 3 is cached: only 4 is loaded
        assert loader.futures[1].result() == 10  # what `when_loaded` reads
        return first, one, again, sorted(loader.futures)

    first, one, again, cached = asyncio.run(scenario())
    assert (first, one, again, cached) == ([10, 20, 30, 10], 20, [30, 40], [1, 2, 3, 4])
    assert batches == [[2, 1, 3], [4]]
