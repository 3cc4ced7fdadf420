"""Pure ASGI middleware: request id, request body size cap, one access log line per HTTP request.

A client that goes away before its answer (the body never arrives whole, or the connection closes while the
request runs) is logged at INFO as status 499, without a traceback: nothing on the server went wrong.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import tracing
from api.logs import request_id_var
from api.metrics import observe_request

log = logging.getLogger("vigil.http")
CLIENT_CLOSED_REQUEST = 499
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    """Gives every request an id (honouring a sane `X-Request-Id`), caps the body, logs the outcome."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if tracing.ENABLED:  # the request id is the trace id
            with tracing.request_span(scope) as (trace_id, span):
                tracing.end_request(span, await self._serve(scope, receive, send, trace_id))
            return
        await self._serve(scope, receive, send, None)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, trace_id: str | None) -> int:
        """Serve the request; the status answered."""
        incoming_id, declared = b"", None
        for name, value in scope.get("headers") or ():  # the two this needs (the last of each, as a dict keeps)
            if name == b"x-request-id":
                incoming_id = value
            elif name == b"content-length":
                declared = value
        incoming = incoming_id.decode("latin-1")
        request_id = trace_id or (incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                status = 413
                await _send_413(send, request_id, self.max_body_bytes)
                return status

            received = 0
            disconnected = False

            async def capped_receive() -> Message:
                nonlocal received, disconnected
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                elif message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise BodyTooLarge
                return message

            response_started = False

            async def send_with_id(message: Message) -> None:
                nonlocal status, response_started
                if message["type"] == "http.response.start":
                    response_started = True
                    status = message["status"]
                    message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                await send(message)

            try:
                await self.app(scope, capped_receive, send_with_id)
            except BodyTooLarge:
                status = 413
                if not response_started:
                    await _send_413(send, request_id, self.max_body_bytes)
            except (ClientDisconnect, OSError):
                if not disconnected:
                    raise
                status = CLIENT_CLOSED_REQUEST
            else:
                if disconnected:  # whatever was sent went nowhere
                    status = CLIENT_CLOSED_REQUEST
        finally:
            seconds = time.perf_counter() - started
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            observe_request(scope.get("path", ""), scope.get("method", ""), status, seconds)
            request_id_var.reset(token)
        return status


async def _send_413(send: Send, request_id: str, limit: int) -> None:
    body = (
        b'{"errors":[{"message":"request body exceeds ' + str(limit).encode() + b' bytes",'
        b'"extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
