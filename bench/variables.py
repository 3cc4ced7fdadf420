"""Variable coercion of trusted operations: graphql-core's (``get_variable_values``, what every request ran) beside
the compiled function of ``api.graphql.compiler.variables``, on the same inputs, in-process, no server.

- ``submitEvents`` of 1,000 events (``bench.events``' shape: type, region, an account and maybe a content entity,
  a JSON ``attributes`` with 8 to 30 words, an ISO ``occurredAt``, a key);
- ``submitReports`` of 100 reports (the console's ``SubmitReports``);
- the console's ``CasesPage`` variables (``first``, a ``CaseFilter``).

Each case checks first that both give the same values, then alternates the two ``--rounds`` times (``--calls``
calls each) and prints the medians per call and their ratio. The ``DateTime`` scalar's own parsing (dateutil's
``isoparse``, graphql-core's side) weighs on ``submitEvents``: the last line prints it beside the compiled side's
shortcut for the common ISO form, on the same 1,000 values.

With ``--app``, the same in a request: an in-process app (``create_app``, httpx's ASGI transport, a migrated
database of the embedded PostgreSQL) answers trusted ``submitEvents`` of 1,000 events and ``submitReports`` of
100 reports, the compiled coercion switched on and off request by request (``CompiledExecution.fast_variables``),
and the median process CPU per request of each (the app's work and the client's, the same on both sides; the
database server's apart) is printed with their difference.

    .venv/bin/python -m bench.variables [--rounds 7] [--calls 20] [--app] [--requests 16]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from api.graphql.compiler.variables import _iso_datetime, compile_variables
from api.graphql.internals import core_schema
from api.graphql.schema import build_schema
from api.settings import Environment, Settings

CONSOLE = Path(__file__).resolve().parents[1] / "api" / "console"
SUBMIT_EVENTS = "mutation SubmitEvents($input: SubmitEventsInput!) { submitEvents(input: $input) { __typename } }"
REGIONS = ["EU", "US", "APAC", "ROW"]


def events(count: int, *, rng: random.Random) -> dict[str, Any]:
    now = datetime.now(UTC)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 8))) for _ in range(500)]
    items = []
    for serial in range(count):
        kind = rng.choice(["content.posted", "content.edited", "message.sent"])
        entities = [{"kind": "ACCOUNT", "externalId": f"acct-{rng.randrange(10_000)}"}]
        if kind.startswith("content."):
            entities.append({"kind": "CONTENT", "externalId": f"bench-c{serial}"})
        items.append(
            {
                "type": kind,
                "region": rng.choice(REGIONS),
                "entities": entities,
                "attributes": {"text": " ".join(rng.choices(vocabulary, k=rng.randint(8, 30)))},
                "occurredAt": (now - timedelta(seconds=rng.uniform(0, 600))).isoformat(),
                "idempotencyKey": f"bench-{serial}",
            }
        )
    return {"input": {"events": items}}


def reports(count: int, *, rng: random.Random) -> dict[str, Any]:
    return {
        "input": {
            "reports": [
                {
                    "subjectId": f"Q29udGVudDo{rng.randrange(10**9)}",
                    "policyId": "UG9saWN5OjE=",
                    "source": "USER",
                    "text": "spam link in the bio",
                    "idempotencyKey": f"bench-{serial}",
                }
                for serial in range(count)
            ]
        }
    }


def operation(text: str) -> OperationDefinitionNode:
    definition = parse(text).definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    return definition


def median_ms(call: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--app", action="store_true", help="also measure whole trusted requests in-process")
    parser.add_argument("--requests", type=int, default=16, help="requests per side and operation (--app)")
    args = parser.parse_args()
    schema = core_schema(build_schema(Settings(env=Environment.TEST)))
    rng = random.Random(5)
    cases = [
        ("submitEvents(1000)", operation(SUBMIT_EVENTS), events(1000, rng=rng)),
        ("submitReports(100)", operation((CONSOLE / "SubmitReports.graphql").read_text()), reports(100, rng=rng)),
        (
            "CasesPage",
            operation((CONSOLE / "CasesPage.graphql").read_text()),
            {"first": 100, "filter": {"region": "EU", "states": ["OPEN"]}},
        ),
    ]
    print(f"variable coercion, median of {args.rounds} alternated rounds of {args.calls} calls")
    for name, op, raw in cases:
        definitions = op.variable_definitions or ()
        compiled = compile_variables(schema, op)
        reference = get_variable_values(schema, definitions, raw)
        fast = compiled(raw)
        assert not isinstance(reference, list), reference
        assert fast is not None, f"{name}: the compiled coercion gave up"
        assert fast.coerced == reference.coerced, name
        core_times, fast_times = [], []
        for _ in range(args.rounds):
            core_times.append(median_ms(lambda: get_variable_values(schema, definitions, raw), args.calls))  # noqa: B023
            fast_times.append(median_ms(lambda: compiled(raw), args.calls))  # noqa: B023
        core, quick = statistics.median(core_times), statistics.median(fast_times)
        print(
            f"{name:<20} graphql-core {core:8.3f} ms   compiled {quick:8.3f} ms   "
            f"compiled/graphql-core {quick / core:5.3f}  ({core / quick:4.1f}x faster)"
        )
    _without_datetime(schema, cases[0][1], cases[0][2], args)
    if args.app:
        from bench.stack import Stack

        with Stack("bench_variables") as stack:
            asyncio.run(_in_app(stack.url, args.requests))


def _without_datetime(schema: Any, op: OperationDefinitionNode, raw: dict[str, Any], args: Any) -> None:
    """The submitEvents' DateTime values alone: the scalar's own parser beside the compiled side's shortcut."""
    parse_date_time = schema.type_map["DateTime"].coerce_input_value
    shortcut = _iso_datetime(parse_date_time)
    values = [event["occurredAt"] for event in raw["input"]["events"]]
    assert [shortcut(value) for value in values] == [parse_date_time(value) for value in values]
    parsing, quick = [], []
    for _ in range(args.rounds):
        parsing.append(median_ms(lambda: [parse_date_time(value) for value in values], args.calls))
        quick.append(median_ms(lambda: [shortcut(value) for value in values], args.calls))
    slow, fast = statistics.median(parsing), statistics.median(quick)
    print(f"{'  of which DateTime':<20} isoparse     {slow:8.3f} ms   shortcut {fast:8.3f} ms   (1,000 values)")


async def _in_app(url: str, requests: int) -> None:
    """Trusted requests through an in-process app, the compiled coercion on and off, alternated."""
    import httpx

    from api.app import create_app
    from api.cli.documents import register_with
    from api.graphql.ids import to_global_id
    from bench import ingest
    from domain.document import document_id, new_document
    from persistence.db import create_engine, create_session_factory
    from persistence.principals import SYSTEM_AUDIT
    from persistence.uow import SqlUnitOfWork

    many = (CONSOLE / "SubmitReports.graphql").read_text()
    data = await ingest.prepare(url, (2 * requests + 2) * 100)
    engine = create_engine(url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            await register_with(uow, [new_document("SubmitEvents", SUBMIT_EVENTS), new_document("Reports", many)])
    finally:
        await engine.dispose()
    app = create_app(Settings(env=Environment.TEST, rate_limits=False), database_url=url)
    subjects = iter(data["subjects"])
    policy = to_global_id("Policy", data["policy"])
    rng = random.Random(9)

    def report_batch() -> dict[str, Any]:
        return {"input": {"reports": [
            {"subjectId": to_global_id("Content", next(subjects)), "policyId": policy, "source": "USER",
             "idempotencyKey": f"bench-{rng.getrandbits(64):x}"} for _ in range(100)]}}  # fmt: skip

    def event_batch() -> dict[str, Any]:
        batch = events(1000, rng=rng)
        for event in batch["input"]["events"]:
            event["idempotencyKey"] = f"bench-{rng.getrandbits(64):x}"
        return batch

    async with app.router.lifespan_context(app):
        graphql_app = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
        compiled = graphql_app.compiled
        headers = {"Authorization": f"Bearer {data['token']}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test", timeout=120) as client:
            for name, text, variables, success in (
                ("submitEvents(1000)", SUBMIT_EVENTS, event_batch, "submitEvents"),
                ("submitReports(100)", many, report_batch, "submitReports"),
            ):
                cpu: dict[bool, list[float]] = {True: [], False: []}
                for serial in range(2 * requests + 2):  # the first two warm up
                    fast = serial % 2 == 0
                    compiled.fast_variables = fast
                    body = {"documentId": document_id(text), "variables": variables()}
                    started = time.process_time()
                    response = await client.post("/graphql", json=body, headers=headers)
                    spent = time.process_time() - started
                    answer = response.json()
                    assert "errors" not in answer, answer["errors"]
                    assert answer["data"][success]["__typename"].endswith("Success"), answer
                    if serial >= 2:
                        cpu[fast].append(1000 * spent)
                on, off = statistics.median(cpu[True]), statistics.median(cpu[False])
                print(
                    f"{name:<20} in-process CPU per trusted request: graphql-core's coercion {off:8.2f} ms   "
                    f"compiled {on:8.2f} ms   saved {off - on:6.2f} ms ({(off - on) / off:5.1%})"
                )
        compiled.fast_variables = True


if __name__ == "__main__":
    main()
