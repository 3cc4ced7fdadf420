from __future__ import annotations

import pytest

from domain.clock import FixedClock
from tests.unit.domain.builders import T0
from tests.unit.domain.fakes import FakeUnitOfWork


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def uow(clock: FixedClock) -> FakeUnitOfWork:
    return FakeUnitOfWork(clock)
