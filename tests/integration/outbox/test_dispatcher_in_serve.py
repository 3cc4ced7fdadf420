"""The app runs its dispatcher beside serving (unless told not to): a decision made through the API reaches a
webhook receiver with nobody driving a pass, and shutting the app down stops the dispatcher."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import decided_case, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token


def test_the_dispatcher_is_on_by_default_except_in_tests_and_when_turned_off() -> None:
    assert Settings(env="development").dispatcher_enabled  # type: ignore[arg-type]
    assert Settings(env="production").dispatcher_enabled  # type: ignore[arg-type]
    assert not Settings(env="test").dispatcher_enabled  # type: ignore[arg-type]
    assert not Settings(env="production", dispatcher=False).dispatcher_enabled  # type: ignore[arg-type]
    assert Settings(env="test", dispatcher=True).dispatcher_enabled  # type: ignore[arg-type]


async def test_a_serving_app_delivers_on_its_own(db_url: str) -> None:
    settings = Settings(env="test", dispatcher=True, dispatch_interval=0.05, principal_cache_seconds=0)  # type: ignore[arg-type]
    app = create_app(settings, database_url=db_url)
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
                gql = GraphQLClient(http)
                await register(gql, partner, receiver.url("/hook"), ["decision.made"])
                await decided_case(gql, admin, "served")
                deadline = time.monotonic() + 60
                while not receiver.at("/hook") and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        delivered = receiver.at("/hook")
    assert [json.loads(r.body)["type"] for r in delivered] == ["decision.made"]
