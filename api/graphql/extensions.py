"""Schema extensions: one log line per GraphQL operation (name, type, duration, principal; never tokens/PII)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors as StrawberryMaskErrors
from strawberry.extensions import SchemaExtension

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
