"""The route of a trusted document: from the HTTP body to the compiled plan through the fewest layers.

A request naming a trusted document (``{"documentId": ...}``, Apollo's ``persistedQuery``, Relay's ``id`` or
``doc_id``) sent as a JSON ``POST`` is answered here, without strawberry's HTTP view: the body is decoded once
(by the view's own decoder: UTF-8, JSON, the depth cap), the principal's context is built (database health, the
token, rate limits), the document is looked up and admitted, and the operation runs through the schema's request
pipeline (the stored text's parse, validation and cost are cached per document; the deadline, error masking,
``process_errors`` and the operation log run as on any request) into the compiled plan; the result is formatted as
the view formats it and sent as the view sends it.

Every step is the view's own method or the same check in the same order, so a trusted request is answered, and
refused, exactly as on the ordinary path (``tests/integration/compiler`` compares the two byte for byte, errors
and refusals included). What the view does besides is only overhead for such a request: the GraphiQL check, the
request adapter's content-type dispatch (multipart, batches, GET parameters), the root value hook, the streaming
and incremental result branches. Anything else (GET, other content types, a batch, a body that does not decode or
names no document, a streaming ``Accept``) goes to the view unchanged; the middleware around ``/graphql``
(request id, body cap, GraphQL-over-HTTP negotiation and security headers, tracing, metrics) wraps both alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from api.trusted_documents import DocumentRefused, take_named

NAMING_KEYS = ("documentId", "doc_id", "id")
NAMED = (b'"documentId"', b'"doc_id"', b'"id"', b'"persistedQuery"')
"""A body naming a document holds one of these (JSON keys are quoted); one that holds none is not decoded here."""
STREAMING = ("multipart/mixed", "text/event-stream")
"""``Accept`` media types that make the view stream its answer: such a request is left to the view."""


class GraphQLView(Protocol):
    """What the route uses of the application's GraphQL view (``api.app.VigilGraphQL``)."""

    documents: Any
    runtime: Any
    settings: Any
    request_adapter_class: Any

    def decode_json(self, data: str | bytes) -> object: ...

    async def get_sub_response(self, request: Any) -> Any: ...

    async def get_context(self, request: Any, response: Any) -> Any: ...

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: Any,
    ) -> Any: ...

    async def process_result(self, request: Any, result: Any) -> Any: ...

    def create_response(self, response_data: Any, sub_response: Any) -> Any: ...


def names_document(body: Mapping[str, Any]) -> bool:
    """Whether a decoded body names a trusted document (well-formed or not: a malformed id is refused here too)."""
    if any(key in body for key in NAMING_KEYS):
        return True
    extensions = body.get("extensions")
    return isinstance(extensions, Mapping) and "persistedQuery" in extensions


def _json_content(request: Request) -> bool:
    """The view's test for a JSON body (with strawberry's own parser of the header, which builds an e-mail message:
    the plain ``application/json`` every client sends is answered without it)."""
    header = request.headers.get("content-type") or ""
    if header == "application/json":
        return True
    content_type, _ = parse_content_type(header)
    return "application/json" in content_type


class TrustedRoute:
    """Answers the requests that name a trusted document; None for any other request (the view answers it).

    ``refused(status, code, message)`` makes the exception the view answers as a JSON GraphQL error with that
    status (``api.app.Refused``): the route raises what the view would raise, and the view's caller answers both."""

    def __init__(
        self, view: GraphQLView, refused: Callable[[int, str, str], Exception], max_operation_name: int
    ) -> None:
        self.view = view
        self.refused = refused
        self.max_operation_name = max_operation_name
        self.answered = 0

    async def run(self, request: Request) -> Response | None:
        if request.method != "POST":
            return None
        raw = await request.body()  # kept on the request: the view reads the same bytes when it answers instead
        if not any(key in raw for key in NAMED):  # ad hoc text, the common case: left to the view at once
            return None
        if not _json_content(request) or any(media in request.headers.get("accept", "") for media in STREAMING):
            return None
        view = self.view
        try:
            body = view.decode_json(raw)
        except Exception:  # the view refuses it, after the context as always
            return None
        if not isinstance(body, dict) or not names_document(body):
            return None
        self.answered += 1
        sub_response = await view.get_sub_response(request)
        context = await view.get_context(request, sub_response)
        request_data = await self._request_data(body)
        result = await view.execute_single(
            request=request,
            request_adapter=view.request_adapter_class(request),
            sub_response=sub_response,
            context=context,
            root_value=None,
            request_data=request_data,
        )
        response: Response = view.create_response(await view.process_result(request, result), sub_response)
        return response

    async def _request_data(self, body: dict[str, Any]) -> GraphQLRequestData:
        """What the view's ``parse_http_body`` makes of a JSON body naming a document, with its checks in order."""
        view = self.view
        try:
            take_named(body)
        except DocumentRefused as refused:
            raise self.refused(refused.status, refused.code, refused.message) from None
        query = body.get("query")
        if not isinstance(query, str | None):
            raise HTTPException(400, "The GraphQL operation's `query` must be a string or null, if provided.")
        variables = body.get("variables")
        if not isinstance(variables, dict | None):
            raise HTTPException(400, "The GraphQL operation's `variables` must be an object or null, if provided.")
        extensions = body.get("extensions")
        if not isinstance(extensions, dict | None):
            raise HTTPException(400, "The GraphQL operation's `extensions` must be an object or null, if provided.")
        try:
            text = await view.documents.resolve(view.runtime.pool, view.settings.trusted_documents)
        except DocumentRefused as refused:
            raise self.refused(refused.status, refused.code, refused.message) from None
        name = body.get("operationName")
        if name is not None and not isinstance(name, str):
            raise self.refused(400, "BAD_REQUEST", "`operationName` must be a string or null")
        if isinstance(name, str) and len(name) > self.max_operation_name:
            raise self.refused(
                400, "BAD_REQUEST", f"`operationName` is longer than {self.max_operation_name} characters"
            )
        return GraphQLRequestData(
            query=text if text is not None else query,
            variables=variables,
            operation_name=name,
            extensions=extensions,
            protocol="http",
        )
