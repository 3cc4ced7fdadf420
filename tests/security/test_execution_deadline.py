"""Issue 20 point 4: the execution time limit stops CPU-bound work too. ``asyncio.timeout`` only acts at an
``await``; completing fields from records already loaded never awaits, so a costly page ran 12.7 s past a 10 s
limit. The executor now reads a clock between fields: past the deadline it executes no more fields, and the
operation answers one TIMEOUT error. Tested with an injected clock (deterministic), and over HTTP with a limit
already passed when execution starts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.graphql.execution import CHECK_EVERY, execution_context_for
from api.graphql.schema import build_schema
from api.settings import Settings
from tests.security.conftest import AppClient

FLAT = "{ " + " ".join(f"a{i}: __typename" for i in range(20)) + " }"
NESTED = "{ __schema { types { name fields { name type { name } } } } }"  # thousands of fields, no database


class Clock:
    """A clock one second later at every reading; counts its readings."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return float(self.readings - 1)


def _schema(clock: Callable[[], float], timeout: float, check_every: int = CHECK_EVERY) -> object:
    schema = build_schema(Settings(env="test"))
    schema.execution_context_class = execution_context_for(
        schema._schema, timeout=timeout, clock=clock, check_every=check_every
    )
    return schema


async def test_fields_stop_at_the_deadline_with_one_timeout_error() -> None:
    clock = Clock()
    schema = _schema(clock, timeout=5, check_every=1)
    result = await schema.execute(FLAT)  # type: ignore[attr-defined]
    assert result.data is None
    assert [e.extensions for e in result.errors] == [{"code": "TIMEOUT"}]
    assert "longer than 5 s" in result.errors[0].message
    # read at the start (0), then before each field: the fifth reads 5, the deadline, and no field follows
    assert clock.readings == 1 + 5


async def test_nested_lists_stop_too_and_the_clock_is_read_every_few_fields() -> None:
    clock = Clock()
    schema = _schema(clock, timeout=3)
    result = await schema.execute(NESTED)  # type: ignore[attr-defined]
    assert result.data is None
    assert [e.extensions for e in result.errors] == [{"code": "TIMEOUT"}]  # one error, not one per list item
    # start (0), field 1 (1), field 1 + CHECK_EVERY (2), field 1 + 2 * CHECK_EVERY (3: past): then nothing more
    assert clock.readings == 4


async def test_an_operation_within_the_deadline_is_untouched() -> None:
    clock = Clock()
    schema = _schema(clock, timeout=1_000_000, check_every=1)
    result = await schema.execute(FLAT)  # type: ignore[attr-defined]
    assert result.errors is None
    assert result.data == {f"a{i}": "Query" for i in range(20)}
    nested = await schema.execute(NESTED)  # type: ignore[attr-defined]
    assert nested.errors is None
    fields = sum(1 + len(t["fields"] or ()) * 3 for t in nested.data["__schema"]["types"])
    assert fields > 3 * CHECK_EVERY  # the nested test above did stop early


@pytest.mark.parametrize("query", [FLAT, NESTED])
async def test_cpu_bound_work_past_the_limit_is_stopped_over_http(app_client: AppClient, query: str) -> None:
    """No resolver awaits here: ``asyncio.timeout`` alone never fired and the whole result came back."""
    async with app_client(execution_timeout=1e-9) as http:
        response = await http.post("/graphql", json={"query": query})
    body = response.json()
    assert response.status_code == 200
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TIMEOUT"]
