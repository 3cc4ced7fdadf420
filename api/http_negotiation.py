"""GraphQL-over-HTTP media types: answer `application/graphql-response+json` when the client accepts it.

With that media type the spec asks for status 400 (and no `data` entry) when the request itself failed before
execution: a document that does not parse or validate, or variables that do not coerce. Such errors carry no
`path`; execution errors do (and keep status 200). Clients asking for `application/json` get the classic
behaviour (always 200). Also adds the security headers every response should carry.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def _prefers_graphql_response(accept: str) -> bool:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, index, pieces[0].lower()))
    for _, _, media in sorted(ranked):
        if media in (GRAPHQL_RESPONSE, "application/json", "*/*", "application/*"):
            return media == GRAPHQL_RESPONSE
    return False


class GraphQLResponseMiddleware:
    def __init__(self, app: ASGIApp, *, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        accept = headers.get(b"accept", b"").decode("latin-1")
        if scope.get("path") != self.path or not _prefers_graphql_response(accept):
            await self.app(scope, receive, self._with_security_headers(send))
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            assert start is not None
            await self._finish(start, b"".join(chunks), send)

        await self.app(scope, receive, buffer)

    def _with_security_headers(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        return wrapped

    async def _finish(self, start: Message, body: bytes, send: Send) -> None:
        status = start["status"]
        raw_headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-type", b"content-length")
        ]
        is_json = any(k.lower() == b"content-type" and b"json" in v for k, v in start.get("headers", []))
        if is_json and status == 200 and b'"errors"' in body:  # no errors, nothing to look at
            try:
                result = json.loads(body)
            except ValueError:
                result = None
            if isinstance(result, dict) and _request_error(result):
                status = 400
                result.pop("data", None)
                body = json.dumps(result).encode()
        content_type = GRAPHQL_RESPONSE.encode() + b"; charset=utf-8" if is_json else b"text/plain; charset=utf-8"
        headers = [*raw_headers, (b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": [*headers, *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})


def _request_error(result: dict[str, object]) -> bool:
    errors = result.get("errors")
    if not isinstance(errors, list) or not errors or result.get("data") is not None:
        return False
    return all(isinstance(e, dict) and "path" not in e for e in errors)
