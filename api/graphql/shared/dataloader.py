"""The DataLoader every request's loaders use (`api.graphql.loaders`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader as _DataLoader
from strawberry.dataloader import DefaultCache, LoaderTask, get_current_batch

K = TypeVar("K")


V = TypeVar("V")


class DataLoader(_DataLoader[K, V]):
    """A loader whose shared futures survive one awaiting resolver being cancelled.

    graphql-core cancels the sibling resolvers of a field that failed (a refused non-null field nulls its parent);
    one of them may be awaiting a key another object awaits too. Awaiting the shared future directly would cancel
    it for everyone, and the other object's resolver would see a `CancelledError` nobody sent it (a 500).

    ``futures`` is the cache itself (key -> the key's shared future), read directly by ``when_loaded``
    (`api.graphql.lookahead`) to answer a loaded key without awaiting.
    """

    def __init__(self, load_fn: Any) -> None:
        super().__init__(load_fn=load_fn)
        assert isinstance(self.cache_map, DefaultCache)
        self.futures: dict[Any, asyncio.Future[V]] = self.cache_map.cache_map

    def load(self, key: K) -> asyncio.Future[V]:
        return asyncio.shield(super().load(key))

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        """All of ``keys`` behind one shield (a page primes hundreds of keys: a shield each cost more than the
        loading): cancelling the caller cancels the shield, never the futures others share.

        What ``load`` does for each key, in one loop: a cached future is shared, a missing key gets a future
        in the cache and joins the loader's current batch (the same batch ``load`` joins, dispatched on the next
        turn of the loop). strawberry also hangs a callback on each future, which cancels the batch once every
        future in it is cancelled; this loader's futures are only ever handed out behind a shield, so none is
        ever cancelled and the callback (a scheduled call per key once the batch answers) is left out.

        One task awaits the futures in turn rather than ``asyncio.gather`` (a callback and a wrapper per key): a
        batch settles all its futures at once, so the task wakes about once per batch."""
        futures = self.futures
        found: list[asyncio.Future[V]] = []
        batch = None
        for key in keys:
            future = futures.get(key)
            if future is None or future.cancelled():
                if batch is None:
                    batch = get_current_batch(self)
                future = futures[key] = self.loop.create_future()
                batch.tasks.append(LoaderTask(key, future))
            found.append(future)
        return asyncio.shield(_results(found))


async def _results(futures: list[asyncio.Future[V]]) -> list[V]:
    try:
        return [await future for future in futures]
    except BaseException:
        for future in futures:  # what gather would have done: no "exception was never retrieved" for the rest
            if future.done() and not future.cancelled():
                future.exception()
        raise
