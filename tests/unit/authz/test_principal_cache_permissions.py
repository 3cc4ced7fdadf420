"""The principal cache keeps a cached principal's permission map: computed on its first request, then reused until
the principal leaves the cache (expiry, eviction, revocation's ``clear``); any other principal's map is computed
each time."""

from __future__ import annotations

import time

from api.graphql.context import PrincipalCache
from authz.enforcer import PermissionMap
from authz.principal import Principal


class Counting:
    def __init__(self) -> None:
        self.calls: list[Principal] = []

    def __call__(self, principal: Principal) -> PermissionMap:
        self.calls.append(principal)
        return PermissionMap(principal_id=f"map-{len(self.calls)}")


def test_a_cached_principal_s_map_is_computed_once() -> None:
    cache, compute = PrincipalCache(ttl=60), Counting()
    principal = Principal.anonymous()
    cache.put("h1", principal)
    first = cache.permissions(principal, compute)
    assert cache.permissions(principal, compute) is first
    assert compute.calls == [principal]


def test_a_principal_not_cached_is_computed_each_time() -> None:
    cache, compute = PrincipalCache(ttl=60), Counting()
    principal = Principal.anonymous()
    cache.permissions(principal, compute)
    cache.permissions(principal, compute)
    assert len(compute.calls) == 2
    disabled = PrincipalCache(ttl=0)
    disabled.put("h1", principal)
    disabled.permissions(principal, compute)
    disabled.permissions(principal, compute)
    assert len(compute.calls) == 4


def test_a_new_principal_for_the_token_or_a_clear_computes_again() -> None:
    cache, compute = PrincipalCache(ttl=60), Counting()
    old, new = Principal.anonymous(), Principal.anonymous()
    cache.put("h1", old)
    first = cache.permissions(old, compute)
    cache.put("h1", new)  # the token looked up again after its TTL
    assert cache.permissions(new, compute) is not first
    assert cache.permissions(old, compute).principal_id == "map-3"  # no longer cached: computed, not kept
    cache.clear()
    assert cache.permissions(new, compute).principal_id == "map-4"
    assert cache.permissions(new, compute).principal_id == "map-5"


def test_an_expired_or_evicted_principal_is_computed_again() -> None:
    cache, compute = PrincipalCache(ttl=0.01, max_entries=2), Counting()
    expiring = Principal.anonymous()
    cache.put("h1", expiring)
    cache.permissions(expiring, compute)
    time.sleep(0.02)
    assert cache.get("h1") is None
    cache.permissions(expiring, compute)
    assert len(compute.calls) == 2
    cache = PrincipalCache(ttl=60, max_entries=2)
    first, second, third = Principal.anonymous(), Principal.anonymous(), Principal.anonymous()
    cache.put("a", first)
    cache.put("b", second)
    cache.permissions(first, compute)
    cache.put("c", third)  # evicts the oldest, "a"
    cache.permissions(first, compute)
    assert len(compute.calls) == 4
