"""Schema extensions: one log line per GraphQL operation (name, type, duration, principal; never tokens/PII);
strawberry's error masking without its per-result protocol check; the extensions' hooks run without being wrapped
anew on every request."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors as StrawberryMaskErrors
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

from api import tracing
from api.metrics import OPERATION_NAMES, observe_operation

log = logging.getLogger("vigil.graphql")


class OperationLog(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        span = tracing.start_operation() if tracing.ENABLED else None
        try:
            yield
        except BaseException:  # the document did not parse (or execution was abandoned)
            if span is not None:
                tracing.end_operation(span, "invalid", None, "ERROR")
            raise
        ctx = self.execution_context
        context = ctx.context
        principal = getattr(context, "principal", None)
        errors = ctx.result.errors if ctx.result is not None and hasattr(ctx.result, "errors") else None
        codes = sorted({str((e.extensions or {}).get("code", "ERROR")) for e in errors or []})
        seconds = time.perf_counter() - started
        try:
            operation_type = ctx.operation_type.value if ctx.operation_type is not None else None
        except Exception:  # the document did not parse or names no operation it holds
            operation_type = None
        first = (errors[0].extensions or {}).get("code", "ERROR") if errors else None
        payload_error = getattr(context, "payload_error", None)
        outcome = str(first or payload_error or "OK")
        observe_operation(ctx.operation_name, operation_type, outcome, seconds)
        if span is not None:
            tracing.end_operation(span, OPERATION_NAMES.label(ctx.operation_name), operation_type, outcome)
        log.info(
            "graphql operation",
            extra={
                "operation_name": ctx.operation_name,
                "operation_type": operation_type,
                "principal_id": principal.id if principal is not None else None,
                "duration_ms": round(seconds * 1000, 2),
                "error_codes": codes,
            },
        )


class MaskErrors(StrawberryMaskErrors):
    """strawberry's ``MaskErrors``, minus its check that a result holds errors: an ``isinstance`` against a
    runtime-checkable protocol (``_ResultWithErrors``, one attribute: ``errors``), 10 µs on every request on Python
    3.11 (it walks the protocol's classes and the caller's frame each time). A result holds errors as the protocol
    says: an ``errors`` attribute, masked when not empty. (It overrides strawberry's private ``_process_result``:
    ``tests/unit/graphql/test_mask_errors.py`` holds it to strawberry's on the same results.)"""

    def _process_result(self, result: object) -> None:
        errors: list[GraphQLError] | None = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


# -- the extensions' hooks, wrapped once per hook function instead of once per request ---------------------------
@functools.cache
def _wrapped(hook: Callable[..., Any]) -> tuple[Callable[..., Any], bool] | None:
    """A generator hook as the context manager factory strawberry makes of it (``contextlib.contextmanager``, or
    ``asynccontextmanager`` for an async generator), called with the extension as its first argument, and whether
    it is async; None for any other hook (strawberry wraps those itself). Cached by the function: a hook replaced
    on its class (a test's monkeypatch) is a new key."""
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return None


class _OnceWrapped:
    """strawberry's ``get_hook`` with a generator hook's wrapping done once per hook function: strawberry checks
    the function's kind and builds ``contextmanager(MethodType(hook, extension))`` for every extension of every
    request, four stages a request (``functools.update_wrapper`` and ``inspect`` included), where calling the
    once-wrapped function with the extension makes the same context manager around the same generator. Other
    hooks (plain or coroutine functions) take strawberry's own path."""

    __slots__ = ()
    HOOK_NAME: str
    default_hook: Any

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        hook = getattr(type(extension), self.HOOK_NAME)
        if hook is self.default_hook or not hook:
            return None
        wrapped = _wrapped(hook)
        if wrapped is None:
            found: WrappedHook | None = super().get_hook(extension)  # type: ignore[misc]
            return found
        factory, is_async = wrapped
        return WrappedHook(extension=extension, hook=functools.partial(factory, extension), is_async=is_async)


class _Operation(_OnceWrapped, OperationContextManager):
    __slots__ = ()


class _Validation(_OnceWrapped, ValidationContextManager):
    __slots__ = ()


class _Parsing(_OnceWrapped, ParsingContextManager):
    __slots__ = ()


class _Executing(_OnceWrapped, ExecutingContextManager):
    __slots__ = ()


class ExtensionsRunner(SchemaExtensionsRunner):
    """strawberry's runner of the schema extensions' hooks, each stage's hooks wrapped once (``_OnceWrapped``);
    ``tests/unit/graphql/test_extensions_runner.py`` runs both on the same extensions and compares what happens."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
