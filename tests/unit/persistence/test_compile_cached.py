"""Pages' statements compiled once per shape (``persistence.fast.sql.compile_cached``) give the very text and values
that compiling each statement gives (``compile_statement``): statements of every root list's filter shapes, with
``IN`` lists of several lengths, regions, cursors and page sizes, each compiled after another statement of the same
shape (so the cached compilation answers with the second statement's values)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.account import AccountStatus
from domain.case import CaseState
from domain.strike import StrikeStatus
from domain.subject import Surface
from persistence.fast import sql
from persistence.fast.sql import compile_cached, compile_statement
from persistence.mapping import EntityMapping
from persistence.pagination import encode_cursor
from persistence.queries.reads import _page_statement
from persistence.queries.status import account_status_is, strike_status_is
from persistence.repositories import ACCOUNTS, CASES, STRIKES
from persistence.tables.cases import reports

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
_REGIONS = st.none() | st.frozensets(st.sampled_from(["US", "EU", "APAC", "ROW"]))
_AFTER = st.none() | st.builds(
    lambda seconds, row: encode_cursor(NOW - timedelta(seconds=seconds), row), st.integers(0, 10**6), st.uuids()
)


@st.composite
def page_statements(draw: Any) -> sa.Select[Any]:
    kind = draw(st.sampled_from(["cases", "accounts", "strikes"]))
    where: list[Any] = []
    mapping: EntityMapping[Any]
    if kind == "cases":
        mapping, t = CASES, CASES.table.c
        states = draw(st.lists(st.sampled_from(list(CaseState)), unique=True, max_size=5))
        where += [t.state.in_(states)] if states else []
        if draw(st.booleans()):
            where.append(t.surface == draw(st.sampled_from(list(Surface))))
        if draw(st.booleans()):
            where.append(t.created_at >= NOW - timedelta(days=draw(st.integers(0, 400))))
        if draw(st.booleans()):
            where.append(t.queue_id == draw(st.uuids()))
        if draw(st.booleans()):
            r = reports.c
            where.append(sa.exists().where(r.case_id == t.id, r.policy_id == draw(st.uuids())))
    elif kind == "accounts":
        mapping = ACCOUNTS
        if draw(st.booleans()):
            where.append(account_status_is(draw(st.sampled_from(list(AccountStatus))), NOW))
    else:
        mapping = STRIKES
        if draw(st.booleans()):
            where.append(strike_status_is(draw(st.sampled_from(list(StrikeStatus))), NOW))
    first = draw(st.integers(1, 100))
    return _page_statement(mapping, where, draw(_REGIONS), first, draw(_AFTER), "created_at")


def _same(statement: sa.Select[Any]) -> None:
    expected, cached = compile_statement(statement), compile_cached(statement)
    assert cached.sql == expected.sql
    assert cached.names == expected.names
    assert cached.args() == expected.args()


@settings(max_examples=300, deadline=None)
@given(first=page_statements(), second=page_statements())
def test_a_cached_compilation_gives_each_statement_its_own_text_and_values(
    first: sa.Select[Any], second: sa.Select[Any]
) -> None:
    _same(first)
    _same(second)
    _same(first)  # again, now from the cache


def test_statements_of_one_shape_share_one_compilation_and_keep_their_values() -> None:
    sql._compiled_by_key.clear()
    t = CASES.table.c
    queue_a, queue_b = uuid.uuid4(), uuid.uuid4()
    a = _page_statement(
        CASES, [t.queue_id == queue_a, t.state.in_(["OPEN"])], frozenset({"US"}), 10, None, "created_at"
    )
    b = _page_statement(
        CASES,
        [t.queue_id == queue_b, t.state.in_(["OPEN", "ASSIGNED"])],
        frozenset({"EU", "US"}),
        50,
        None,
        "created_at",
    )
    compiled_a, compiled_b = compile_cached(a), compile_cached(b)
    assert len(sql._compiled_by_key) == 1  # one shape: the IN lists' lengths are the statement's values
    assert queue_a in compiled_a.args()
    assert queue_b in compiled_b.args()
    assert queue_a not in compiled_b.args()
    assert compiled_b.args() == compile_statement(b).args()
    assert compiled_b.sql.count("$") == len(compiled_b.args()) == 6


def test_the_cache_keeps_at_most_its_size(monkeypatch: Any) -> None:
    sql._compiled_by_key.clear()
    monkeypatch.setattr(sql, "_COMPILED_CACHE_SIZE", 3)
    for first in range(6):  # LIMIT is a value, not a shape: vary the shape by the number of filters instead
        t = CASES.table.c
        where = [t.queue_id == uuid.uuid4() for _ in range(first)]
        _same(_page_statement(CASES, where, None, 10, None, "created_at"))
    assert len(sql._compiled_by_key) == 3
