"""Look-ahead for pages: load the relations a page's selection asks for before its nodes are resolved.

A console page of 100 cases asks for each case's subject, account, reports (and their policies), strikes and
decision (and its actions). Loaded lazily, each of those is an awaited DataLoader call per case: some 700
coroutines, which cost more CPU than the data. Here the page resolver reads its own selection, loads every
relation it names in one batch per relation (the same DataLoaders, so the same statements and the same caches),
and the nested resolvers then answer synchronously from the loaders (``when_loaded``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from api.graphql.context import Info
from api.graphql.shared.dataloader import DataLoader
from domain.case import Case
from domain.subject import SubjectKind

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def when_loaded(loader: DataLoader[K, V], key: K, then: Callable[[V], R]) -> R | Awaitable[R]:
    """``then(value)`` now when the request's loader already holds the value, else an awaitable of it."""
    future = loader.futures.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return then(future.result())
    return _then(loader.load(key), then)


async def _then(pending: Awaitable[V], then: Callable[[V], R]) -> R:
    return then(await pending)


def _children(selections: Iterable[Any]) -> dict[str, SelectedField]:
    """Selected fields by name, through inline fragments and fragment spreads."""
    found: dict[str, SelectedField] = {}
    for selection in selections:
        if isinstance(selection, SelectedField):
            found.setdefault(selection.name, selection)
        elif isinstance(selection, InlineFragment | FragmentSpread):
            for name, field in _children(selection.selections).items():
                found.setdefault(name, field)
    return found


def node_selection(info: Info) -> dict[str, SelectedField]:
    """What a connection field selects on its nodes (``nodes { ... }`` and ``edges { node { ... } }``)."""
    fields: dict[str, SelectedField] = {}
    for connection in info.selected_fields:
        top = _children(connection.selections)
        if "nodes" in top:
            fields.update(_children(top["nodes"].selections))
        if "edges" in top:
            node = _children(top["edges"].selections).get("node")
            if node is not None:
                fields.update(_children(node.selections))
    return fields


async def prime_cases(info: Info, cases: list[Case]) -> None:
    """Load the relations the page's selection names for ``cases``, a batch per relation, two levels deep."""
    selected = node_selection(info)
    if not cases or not selected:
        return
    loaders = info.context.loaders
    first: list[Awaitable[Any]] = []
    if "subject" in selected:
        for kind, loader in ((SubjectKind.CONTENT, loaders.content), (SubjectKind.ACCOUNT, loaders.account)):
            ids = [c.subject_id for c in cases if c.subject_kind is kind]
            if ids:
                first.append(loader.load_many(ids))
        ad_ids = [c.subject_id for c in cases if c.subject_kind is SubjectKind.AD]
        if ad_ids:
            first.append(loaders.ad.load_many(ad_ids))
    if "account" in selected:
        first.append(loaders.account.load_many([c.subject_account_id for c in cases]))
    decided = [c.decision_id for c in cases if c.decision_id is not None]
    if decided and "decision" in selected:
        first.append(loaders.decision.load_many(decided))
        if "actions" in _children(selected["decision"].selections):
            first.append(loaders.actions_by_decision.load_many(decided))
    if decided and "strikes" in selected:
        first.append(loaders.strikes_by_decision.load_many(decided))
    reports: Awaitable[list[list[Any]]] | None = None
    if "reports" in selected:
        limit = selected["reports"].arguments.get("first", 50)
        if isinstance(limit, int) and 0 <= limit <= 100:
            reports = loaders.reports_by_case(limit).load_many([c.id for c in cases])
    results = await asyncio.gather(*first, *([reports] if reports is not None else []))
    if reports is not None and "policy" in _children(selected["reports"].selections):
        policy_ids = {r.policy_id for group in results[-1] for r in group}
        if policy_ids:
            await loaders.policy.load_many(list(policy_ids))
