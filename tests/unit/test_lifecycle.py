"""The background jobs' lifecycle: start order, reverse stop order, each stop awaited, a failing stop skips none."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from api.lifecycle import JOBS, Job, Jobs, Resources, Stop, start_jobs, stop_jobs
from api.settings import Settings


def _resources(settings: Settings) -> Resources:
    nothing: Any = None
    return Resources(settings, nothing, nothing, nothing, nothing, tables_dir=None)


def _recording(name: str, journal: list[str], *, fails_to_stop: bool = False) -> Job:
    def start(_: Resources, __: Jobs) -> Stop:
        journal.append(f"start {name}")

        async def stop() -> None:
            journal.append(f"stop {name}")
            if fails_to_stop:
                raise RuntimeError(f"{name} could not stop")

        return stop

    return Job(name, lambda _: True, start)


async def test_jobs_stop_in_the_reverse_order_and_a_failing_stop_skips_none(caplog: pytest.LogCaptureFixture) -> None:
    journal: list[str] = []
    catalogue = (
        _recording("first", journal),
        _recording("second", journal, fails_to_stop=True),
        Job("never", lambda _: False, lambda _, __: pytest.fail("a disabled job started")),
        _recording("third", journal),
    )
    jobs = Jobs()
    await start_jobs(_resources(Settings()), jobs, catalogue)
    assert [name for name, _ in jobs.stops] == ["first", "second", "third"]

    with caplog.at_level(logging.ERROR, logger="vigil.lifecycle"):
        await stop_jobs(jobs)

    assert journal == ["start first", "start second", "start third", "stop third", "stop second", "stop first"]
    assert jobs.stops == []
    assert [r.getMessage() for r in caplog.records] == ["stopping the second failed"]


async def test_a_job_failing_to_start_stops_those_already_started() -> None:
    journal: list[str] = []

    def broken(_: Resources, __: Jobs) -> Stop:
        raise RuntimeError("no start")

    catalogue = (_recording("first", journal), Job("broken", lambda _: True, broken), _recording("after", journal))
    jobs = Jobs()
    with pytest.raises(RuntimeError, match="no start"):
        await start_jobs(_resources(Settings()), jobs, catalogue)
    assert journal == ["start first", "stop first"]
    assert jobs.stops == []


def test_every_background_job_is_listed_once_with_its_condition() -> None:
    names = [job.name for job in JOBS]
    assert names == [
        "audit sealer",
        "DSA submission",
        "outbox dispatcher",
        "backtest runner",
        "bulk job runner",
        "delayed rule actions",
        "rule evaluation backlog",
        "pool sampler",
        "authorizer warm-up",
    ]
    quiet = Settings(run_bulk_jobs=False, dispatcher=False)
    assert [job.name for job in JOBS if job.enabled(quiet)] == ["audit sealer", "pool sampler", "authorizer warm-up"]
    busy = Settings(run_bulk_jobs=True, dispatcher=True)
    assert [job.name for job in JOBS if job.enabled(busy)] == [n for n in names if n != "DSA submission"]
    submitting = Settings(run_bulk_jobs=False, dispatcher=True, dsa_endpoint="https://tdb.example", dsa_token="t")
    assert [job.name for job in JOBS if job.enabled(submitting)] == [
        "audit sealer",
        "DSA submission",
        "outbox dispatcher",
        "pool sampler",
        "authorizer warm-up",
    ]
