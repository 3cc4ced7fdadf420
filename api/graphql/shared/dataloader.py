"""The DataLoader every request's loaders use (`api.graphql.loaders`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

from strawberry.dataloader import DataLoader as _DataLoader

K = TypeVar("K")


V = TypeVar("V")


class DataLoader(_DataLoader[K, V]):
    """A loader whose shared futures survive one awaiting resolver being cancelled.

    graphql-core cancels the sibling resolvers of a field that failed (a refused non-null field nulls its parent);
    one of them may be awaiting a key another object awaits too. Awaiting the shared future directly would cancel
    it for everyone, and the other object's resolver would see a `CancelledError` nobody sent it (a 500).
    """

    def load(self, key: K) -> asyncio.Future[V]:
        return asyncio.shield(super().load(key))

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        """All of ``keys`` behind one shield (a page primes hundreds of keys: a shield each cost more than the
        loading): cancelling the caller cancels the shield, never the futures others share.

        One task awaits the futures in turn rather than ``asyncio.gather`` (a callback and a wrapper per key): a
        batch settles all its futures at once, so the task wakes about once per batch."""
        return asyncio.shield(_results([super(DataLoader, self).load(key) for key in keys]))


async def _results(futures: list[Awaitable[V]]) -> list[V]:
    try:
        return [await future for future in futures]
    except BaseException:
        for future in futures:  # what gather would have done: no "exception was never retrieved" for the rest
            if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
                future.exception()
        raise
