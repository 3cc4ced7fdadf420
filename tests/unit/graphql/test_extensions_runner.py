"""Vigil's extensions runner (hooks wrapped once per function) against strawberry's own: the same extensions (generator,
async generator, plain and coroutine hooks, hooks left to the default, a hook that raises, one that swallows an
error) run through every stage, sync and async, with and without an error in the stage's body; what the hooks saw,
in order, and what came out (the error, or none) must be the same."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from api.graphql.extensions import ExtensionsRunner

STAGES = ("operation", "parsing", "validation", "executing")


def _unplaced(error: Exception) -> str:
    """The error's text without object addresses (each run makes its own extensions)."""
    return re.sub(r" at 0x[0-9a-f]+", "", str(error))


class Boom(Exception):
    pass


def _extensions(log: list[str]) -> list[SchemaExtension]:
    class Generator(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            log.append("gen operation in")
            try:
                yield
            except Boom:
                log.append("gen operation saw boom")
                raise
            log.append("gen operation out")

        def on_execute(self) -> Iterator[None]:
            log.append("gen execute in")
            yield
            log.append("gen execute out")

    class Swallowing(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            log.append("swallow validate in")
            try:
                yield
            except Boom:
                log.append("swallowed")

    class Async(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            log.append("async operation in")
            await asyncio.sleep(0)
            yield
            log.append("async operation out")

        async def on_parse(self) -> AsyncIterator[None]:
            log.append("async parse in")
            yield
            log.append("async parse out")

    class Plain(SchemaExtension):
        def on_parse(self) -> None:  # type: ignore[override]
            log.append("plain parse")

        async def on_execute(self) -> None:  # type: ignore[override]
            log.append("coroutine execute")

    class Raising(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            log.append("raising execute in")
            yield
            raise Boom("from a hook")

    return [Generator(), Swallowing(), Async(), Plain(), Raising()]


async def _run_async(runner_class: type[SchemaExtensionsRunner], stage: str, fail: bool) -> list[str]:
    log: list[str] = []
    runner = runner_class(execution_context=None, extensions=_extensions(log))  # type: ignore[arg-type]
    try:
        async with getattr(runner, stage)():
            log.append("body")
            if fail:
                raise Boom("from the body")
    except Exception as error:  # compared below
        log.append(f"raised {type(error).__name__}: {_unplaced(error)}")
    return log


def _run_sync(runner_class: type[SchemaExtensionsRunner], stage: str, fail: bool) -> list[str]:
    log: list[str] = []
    runner = runner_class(execution_context=None, extensions=_extensions(log))  # type: ignore[arg-type]
    try:
        with getattr(runner, stage)():
            log.append("body")
            if fail:
                raise Boom("from the body")
    except Exception as error:  # compared below
        log.append(f"raised {type(error).__name__}: {_unplaced(error)}")
    return log


@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize("stage", STAGES)
def test_the_runners_run_the_same_hooks_alike(stage: str, fail: bool) -> None:
    theirs = asyncio.run(_run_async(SchemaExtensionsRunner, stage, fail))
    ours = asyncio.run(_run_async(ExtensionsRunner, stage, fail))
    assert ours == theirs
    assert "body" in ours
    assert _run_sync(ExtensionsRunner, stage, fail) == _run_sync(SchemaExtensionsRunner, stage, fail)


def test_nested_stages_run_alike() -> None:
    async def nested(runner_class: type[SchemaExtensionsRunner]) -> list[str]:
        log: list[str] = []
        runner = runner_class(execution_context=None, extensions=_extensions(log))  # type: ignore[arg-type]
        with contextlib.suppress(Boom):
            async with runner.operation():
                async with runner.parsing():
                    log.append("parse body")
                async with runner.validation():
                    raise Boom("swallowed by validation")
                async with runner.executing():
                    log.append("execute body")
        return log

    theirs = asyncio.run(nested(SchemaExtensionsRunner))
    assert asyncio.run(nested(ExtensionsRunner)) == theirs
    assert "swallowed" in theirs


def test_a_hook_replaced_on_its_class_is_the_one_run() -> None:
    """The wrapping is cached by function: a hook replaced afterwards runs, not the one cached."""
    log: list[str] = []

    class Replaced(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            log.append("first")
            yield

    def second(self: Any) -> Iterator[None]:
        log.append("second")
        yield

    async def parse() -> None:
        async with ExtensionsRunner(execution_context=None, extensions=[Replaced()]).parsing():  # type: ignore[arg-type]
            pass

    asyncio.run(parse())
    Replaced.on_parse = second  # type: ignore[method-assign]
    asyncio.run(parse())
    assert log == ["first", "second"]
