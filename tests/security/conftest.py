"""Hostile requests, sent through the real ASGI app (real PostgreSQL, real Casbin), one fresh database per test."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.logs import JsonFormatter
from api.settings import Settings
from tests.integration.conftest import GraphQLClient, gql, http  # noqa: F401  (fixtures)

AppClient = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(db_url: str) -> AppClient:
    """``async with app_client(env="production", max_query_cost=10) as client:`` an app with those settings."""

    @contextlib.asynccontextmanager
    async def open_client(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(**{"env": "test", **settings}), database_url=db_url)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
                yield client

    return open_client


class LogLines:
    """Every record logged while a test runs, rendered as the service writes them (JSON lines)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.formatter = JsonFormatter()

    @property
    def records(self) -> list[logging.LogRecord]:
        return list(self.caplog.records)

    def text(self) -> str:
        return "\n".join(self.formatter.format(r) for r in self.records)

    def at_least(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= level]

    def tracebacks(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info]

    def clear(self) -> None:
        self.caplog.clear()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> LogLines:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, as an operator debugging would
    return LogLines(caplog)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    return str(body["errors"][0]["extensions"]["code"])


__all__ = ["AppClient", "GraphQLClient", "LogLines", "error_code"]
