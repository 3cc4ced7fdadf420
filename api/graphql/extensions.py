"""Schema extensions: one log line per GraphQL operation (name, type, duration, principal; never tokens/PII)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

log = logging.getLogger("vigil.graphql")


class OperationLog(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        context = ctx.context
        principal = getattr(context, "principal", None)
        errors = ctx.result.errors if ctx.result is not None and hasattr(ctx.result, "errors") else None
        codes = sorted({str((e.extensions or {}).get("code", "ERROR")) for e in errors or []})
        operation_type = ctx.operation_type.value if ctx.operation_type is not None else None
        log.info(
            "graphql operation",
            extra={
                "operation_name": ctx.operation_name,
                "operation_type": operation_type,
                "principal_id": principal.id if principal is not None else None,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "error_codes": codes,
            },
        )
