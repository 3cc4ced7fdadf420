"""The README's receiver, run as written: the `verify` function of its "Integrating" section accepts a real
delivery (and both signatures during a rotation) and refuses a tampered body, a foreign secret and a replay."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import ROTATE, decided_case, dispatcher, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_verify() -> Any:
    section = README.read_text().split("## Integrating", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "the Integrating section lost its receiver"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)  # the snippet, exactly as a partner copies it
    return namespace["verify"]


async def test_the_readme_receiver_verifies_a_real_delivery(gql: GraphQLClient, db_url: str) -> None:
    verify = readme_verify()
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        hook = await register(gql, partner, receiver.url("/hook"), ["decision.made"])
        await decided_case(gql, admin, "readme")
        async with dispatcher(db_url) as d:
            await d.run_once()
        rotated = await gql(ROTATE, {"input": {"webhookId": hook["webhook"]["id"]}}, token=partner)
        new_secret = rotated["data"]["rotateWebhookSecret"]["secret"]
        await decided_case(gql, admin, "readme-rotated")
        async with dispatcher(db_url) as d:
            await d.run_once()
        before, during = receiver.at("/hook")
    assert verify(hook["secret"], before.headers, before.body)
    assert not verify(hook["secret"], before.headers, before.body.replace(b"VIOLATING", b"NOT_VIOLATING"))
    assert not verify(new_secret, before.headers, before.body)
    assert verify(new_secret, during.headers, during.body)
    assert verify(hook["secret"], during.headers, during.body)  # the overlap: both secrets verify
    replayed = before.headers | {"webhook-timestamp": str(int(before.headers["webhook-timestamp"]) - 3600)}
    assert not verify(hook["secret"], replayed, before.body)
