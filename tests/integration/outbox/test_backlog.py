"""What /metrics will read: the outbox backlog (events not yet fanned out, and the age of the oldest) and the
delivery outcomes of the process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.dispatcher import delivery_outcomes
from persistence.outbox import backlog
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import decided_case, dispatcher, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def test_the_backlog_empties_when_the_dispatcher_passes(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        await register(gql, partner, receiver.url("/ok"), ["decision.made"])
        await decided_case(gql, admin, "backlog")
        async with dispatcher(db_url) as d:
            later = datetime.now(UTC) + timedelta(minutes=5)
            count, age = await backlog(d.pool, later)
            assert count >= 4  # case opened, decided; decision; removal
            assert 300 <= age < 400
            before = delivery_outcomes().get("delivered", 0)
            await d.run_once()
            assert await backlog(d.pool, later) == (0, 0.0)
            assert delivery_outcomes()["delivered"] == before + 1
