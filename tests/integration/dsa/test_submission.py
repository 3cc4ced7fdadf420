"""Submitting statements to the DSA Transparency Database (a stand-in on 127.0.0.1 with the same rules and
answers): batches, retries on 429 and 5xx, duplicates taken as submitted, refusals kept with their reasons,
and a run that died mid-batch resumed without sending anything twice."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.graphql.ids import to_global_id
from api.services.dsa_client import SubmissionFailed, TransparencyDatabaseClient
from api.services.dsa_submit import _uow, submit_alone, submit_periodically, submit_statements
from api.services.seed import seed_demo
from api.settings import Settings
from domain.clock import SystemClock
from domain.dsa.services.submission import take_batch
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.dsa_submission import SUBMISSION_LOCK
from persistence.tables.outcomes import statements_of_reasons
from tests.integration.conftest import GraphQLClient
from tests.integration.dsa.fake_database import TOKEN, FakeTransparencyDatabase, serving
from tests.integration.tokens import issue_staff_token

VIGIL = str(Path(sys.executable).parent / "vigil")
SUBMISSION_QUERY = """query($id: ID!) { node(id: $id) { ... on Decision {
  dsaStatement { puid submission { state databaseId } } } } }"""


async def _no_wait(_seconds: float) -> None:
    return None


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    await seed_demo(db_url)
    engine = create_engine(db_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def fake() -> Any:
    with serving() as served:
        yield served


def _client(url: str, **kw: Any) -> TransparencyDatabaseClient:
    return TransparencyDatabaseClient(url, TOKEN, backoff=0.0, sleep=_no_wait, **kw)


async def _states(sessions: SessionFactory) -> dict[str, tuple[str, str | None, list[str]]]:
    st = statements_of_reasons.c
    async with sessions() as session:
        rows = (await session.execute(sa.select(st.puid, st.submission, st.database_id, st.rejection))).all()
    return {puid: (state, database_id, list(rejection)) for puid, state, database_id, rejection in rows}


async def test_every_statement_is_sent_once_through_a_429_and_a_500(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str], db_url: str, gql: GraphQLClient
) -> None:
    database, url = fake
    database.failures = [429, 500]
    async with _client(url) as client:
        tally = await submit_statements(sessions, client, batch_size=3)
        assert client.retries == 2
    states = await _states(sessions)
    assert len(states) >= 6
    assert tally.submitted == len(states)
    assert tally.batches == -(-len(states) // 3)
    assert sorted(database.received) == sorted(states)  # each statement arrived exactly once
    for puid, (state, database_id, rejection) in states.items():
        assert (state, database_id, rejection) == ("SUBMITTED", database.stored[puid]["uuid"], [])

    async with _client(url) as client:  # nothing left to send: a second run sends nothing
        again = await submit_statements(sessions, client)
    assert (again.submitted, again.batches, again.reconciled) == (0, 0, 0)
    assert len(database.received) == len(states)

    decision_id = await _one_decision(sessions)
    token = await issue_staff_token(db_url, "moderator", "EU")
    body = await gql(
        SUBMISSION_QUERY,
        {"id": to_global_id("Decision", decision_id)},
        token=token,
    )
    statement = body["data"]["node"]["dsaStatement"]
    assert statement["submission"] == {"state": "SUBMITTED", "databaseId": database.stored[statement["puid"]]["uuid"]}


async def _one_decision(sessions: SessionFactory) -> Any:
    async with sessions() as session:
        return (await session.execute(sa.select(statements_of_reasons.c.decision_id).limit(1))).scalar_one()


async def test_a_run_that_died_mid_batch_resumes_without_sending_twice(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    clock = SystemClock()
    async with _client(url) as client:
        # run 1 dies after the database took its batch, before recording the answer
        async with _uow(sessions, "submitStatements", clock) as uow:
            sent, _ = await take_batch(uow, 2, clock.now())
        await client.send([s.fields for s in sent])
        # run 2 dies after marking its batch in flight, before sending it
        async with _uow(sessions, "submitStatements", clock) as uow:
            unsent, _ = await take_batch(uow, 2, clock.now())
        assert {s for s, *_ in (await _states(sessions)).values()} == {"IN_FLIGHT", "PENDING"}

        tally = await submit_statements(sessions, client, batch_size=100)
    states = await _states(sessions)
    assert tally.reconciled == 2
    assert tally.submitted == len(states) - 2
    assert sorted(database.received) == sorted(states)  # nothing twice
    assert {state for state, _, _ in states.values()} == {"SUBMITTED"}
    for statement in sent:
        assert states[statement.puid][1] == database.stored[statement.puid]["uuid"]
    assert all(states[s.puid][0] == "SUBMITTED" for s in unsent)


async def test_a_duplicate_puid_is_taken_as_already_submitted(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    first = sorted(await _states(sessions))[0]
    database.stored[first] = {"puid": first, "uuid": "6bf8beb0-765c-4e79-8cb1-dc93fc7478bb"}  # it arrived before
    async with _client(url) as client:
        tally = await submit_statements(sessions, client)
    states = await _states(sessions)
    assert states[first] == ("SUBMITTED", "6bf8beb0-765c-4e79-8cb1-dc93fc7478bb", [])
    assert tally.submitted == len(states)
    assert first not in database.received
    assert sorted(database.received) == sorted(p for p in states if p != first)
    assert ("POST", 422) in database.calls  # the first batch was refused whole for the duplicate, then resent


async def test_a_refused_statement_keeps_its_reasons_and_the_rest_goes_through(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    refused = sorted(await _states(sessions))[-1]
    database.refuse[refused] = {"decision_facts": ["The decision facts may not contain personal data."]}
    async with _client(url) as client:
        tally = await submit_statements(sessions, client)
    states = await _states(sessions)
    assert states[refused] == ("REJECTED", None, ["decision_facts: The decision facts may not contain personal data."])
    assert (tally.rejected, tally.submitted) == (1, len(states) - 1)
    assert refused not in database.received


async def test_a_statement_the_rules_refuse_is_not_sent(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    broken = sorted(await _states(sessions))[0]
    async with sessions() as session, session.begin():  # as if a category had been withdrawn from the vocabulary
        gone = "UPDATE statements_of_reasons SET fields = jsonb_set(fields, '{category}', '\"GONE\"') WHERE puid = :p"
        await session.execute(sa.text(gone), {"p": broken})
    async with _client(url) as client:
        await submit_statements(sessions, client)
    state, _, reasons = (await _states(sessions))[broken]
    assert (state, reasons) == ("REJECTED", ["not sent: category: The selected category is invalid."])
    assert broken not in database.received


async def test_no_answer_leaves_the_batch_in_flight_for_the_next_run(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    database.failures = [503] * 3
    async with _client(url, attempts=3) as client:
        with pytest.raises(SubmissionFailed, match="HTTP 503 after 3 attempt"):
            await submit_statements(sessions, client, batch_size=2)
    assert sorted(s for s, *_ in (await _states(sessions)).values())[:2] == ["IN_FLIGHT", "IN_FLIGHT"]
    async with _client(url) as client:
        await submit_statements(sessions, client)
    assert {s for s, *_ in (await _states(sessions)).values()} == {"SUBMITTED"}
    assert len(database.received) == len(set(database.received))


async def test_a_wrong_token_is_final(fake: tuple[FakeTransparencyDatabase, str]) -> None:
    database, url = fake
    async with TransparencyDatabaseClient(url, "X|wrong", backoff=0.0, sleep=_no_wait) as client:
        with pytest.raises(SubmissionFailed, match="HTTP 401"):
            await client.send([{"puid": "p"}])
    assert database.calls == [("POST", 401)]  # not retried


async def test_the_cli_exports_and_submits(
    sessions: SessionFactory, db_url: str, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    _, url = fake
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url, "VIGIL_DSA_ENDPOINT": url, "VIGIL_DSA_TOKEN": TOKEN}
    submitted = await _vigil(env, "dsa", "submit")
    assert "submitted" in submitted[1]
    out, err = await _vigil(env, "dsa", "export", "--since", "2000-01-01", "--no-progress")
    lines = [json.loads(line) for line in out.splitlines()]
    states = await _states(sessions)
    assert sorted(line["puid"] for line in lines) == sorted(states)
    assert {line["_submission"]["state"] for line in lines} == {"SUBMITTED"}
    assert f"exported {len(states)} statement(s)" in err
    missing = await _vigil({**env, "VIGIL_DSA_TOKEN": ""}, "dsa", "submit", code=2)
    assert missing[1].startswith("vigil: error: set VIGIL_DSA_ENDPOINT and VIGIL_DSA_TOKEN"), missing[1]


async def test_the_cli_says_why_it_stopped_in_one_line(
    sessions: SessionFactory, db_url: str, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    database.failures = [503] * 2
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url, "VIGIL_DSA_ENDPOINT": url, "VIGIL_DSA_TOKEN": TOKEN,
           "VIGIL_DSA_ATTEMPTS": "2", "VIGIL_DSA_BACKOFF": "0"}  # fmt: skip
    _, err = await _vigil(env, "dsa", "submit", code=1)
    assert err.startswith("vigil: error: submission stopped: POST /api/v1/statements: HTTP 503 after 2 attempt(s)")
    assert "Traceback" not in err
    _, err = await _vigil(env, "dsa", "submit", "--resend", "vigil-nope", code=2)
    assert err == "vigil: error: --resend: no statement with puid vigil-nope"


async def test_no_wait_after_the_last_try(fake: tuple[FakeTransparencyDatabase, str]) -> None:
    database, url = fake
    database.failures = [503] * 3
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    async with TransparencyDatabaseClient(url, TOKEN, attempts=3, backoff=1.0, sleep=wait) as client:
        with pytest.raises(SubmissionFailed, match="after 3 attempt"):
            await client.send([{"puid": "p"}])
    assert len(waits) == 2  # between the tries, none after the last
    assert all(0.5 <= w <= 4.0 for w in waits)


RESEND = """mutation($input: ResendStatementInput!) { resendStatementOfReasons(input: $input) {
  __typename ... on ResendStatementSuccess { statement { decisionFacts submission { state rejection } } }
  ... on Error { code field message } } }"""


async def test_a_rejected_statement_is_corrected_and_sent_again(
    sessions: SessionFactory, db_url: str, gql: GraphQLClient, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    first, second = sorted(await _states(sessions))[:2]
    reason = "The decision facts may not contain personal data."
    database.refuse = {first: {"decision_facts": [reason]}, second: {"decision_facts": [reason]}}
    async with _client(url) as client:
        await submit_statements(sessions, client)
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url, "VIGIL_DSA_ENDPOINT": url, "VIGIL_DSA_TOKEN": TOKEN}
    out, _ = await _vigil(env, "dsa", "export", "--since", "2000-01-01", "--no-progress")
    exported = {line["puid"]: line["_submission"] for line in map(json.loads, out.splitlines())}
    assert exported[first] == {"state": "REJECTED", "id": None, "rejection": [f"decision_facts: {reason}"]}

    async with sessions() as session:
        st = statements_of_reasons.c
        rows = await session.execute(sa.select(st.puid, st.decision_id).where(st.puid.in_([first, second])))
        decisions = {puid: to_global_id("Decision", decision) for puid, decision in rows}
    manager = await issue_staff_token(db_url, "policy_manager", "EU")
    wrong = {"decisionId": decisions[first], "corrections": {"contentLanguage": "xx"}}
    refused = (await gql(RESEND, {"input": wrong}, token=manager))["data"]["resendStatementOfReasons"]
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "corrections")  # the rules refuse it: unchanged
    assert (await _states(sessions))[first][0] == "REJECTED"
    fixed = {"decisionId": decisions[first], "corrections": {"decisionFacts": "Removed under the policy."}}
    done = (await gql(RESEND, {"input": fixed}, token=manager))["data"]["resendStatementOfReasons"]
    assert done["statement"] == {"decisionFacts": "Removed under the policy.",
                                 "submission": {"state": "PENDING", "rejection": []}}  # fmt: skip
    again = (await gql(RESEND, {"input": fixed}, token=manager))["data"]["resendStatementOfReasons"]
    assert again["code"] == "INVALID_STATE"  # only a REJECTED statement is resent

    database.refuse = {}
    await _vigil(env, "dsa", "submit", "--resend", second)  # the second one unchanged, by the command
    states = await _states(sessions)
    assert (states[first][0], states[second][0]) == ("SUBMITTED", "SUBMITTED")
    assert database.stored[first]["decision_facts"] == "Removed under the policy."
    assert database.stored[first]["puid"] == first
    assert database.received.count(first) == database.received.count(second) == 1


async def _vigil(env: dict[str, str], *args: str, code: int = 0) -> tuple[str, str]:
    process = await asyncio.create_subprocess_exec(
        VIGIL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == code, err.decode()
    return out.decode(), " ".join(err.decode().split())


async def test_one_submission_run_at_a_time(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    async with sessions() as other:  # another process's run holds the lock
        await other.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": SUBMISSION_LOCK})
        async with _client(url) as client:
            assert await submit_alone(sessions, client) is None  # nothing done, nothing sent
        assert database.received == []
        await other.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SUBMISSION_LOCK})
    async with _client(url) as client:
        tally = await submit_alone(sessions, client)
    assert tally is not None
    assert tally.submitted == len(database.received) > 0


async def test_the_dispatcher_submits_on_its_own_until_stopped(
    sessions: SessionFactory, fake: tuple[FakeTransparencyDatabase, str]
) -> None:
    database, url = fake
    settings = Settings(env="test", dsa_endpoint=url, dsa_token=TOKEN, dsa_interval=3600)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(submit_periodically(sessions, settings, stop))
    for _ in range(200):  # the first run starts at once; wait for it to have settled every statement
        states = await _states(sessions)
        if states and all(state == "SUBMITTED" for state, _, _ in states.values()):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(running, timeout=10)  # a stop ends the wait for the next run
    assert sorted(database.received) == sorted(states)
    assert all(state == "SUBMITTED" for state, _, _ in states.values())
