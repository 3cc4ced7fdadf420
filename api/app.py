"""The ASGI application: `/graphql` (GraphiQL in development), `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from api import tracing
from api.bootstrap import DatabaseHandle, resolve_database
from api.collector import freeze_long_lived_objects, tune_collector
from api.graphql.compiler import install_compiled_execution
from api.graphql.context import ContextFactory
from api.graphql.limits import SHOWN_PREFIX, clip
from api.graphql.limits.json_values import decode, remember_checked
from api.graphql.schema import build_schema
from api.http_negotiation import GraphQLResponseMiddleware
from api.lifecycle import Jobs, Resources, start_jobs, stop_jobs
from api.logs import install_request_id
from api.metrics import ScrapeCache, ScrapeSources, metrics_endpoint
from api.middleware import RequestContextMiddleware
from api.oidc_fetch import build_oidc_verifier
from api.outage import RETRY_AFTER_SECONDS, DatabaseHealth
from api.ratelimit import RateLimiter
from api.settings import Environment, Settings
from api.trusted_documents import DocumentRefused, DocumentRegistry, take_named
from api.trusted_route import TrustedRoute
from authz.enforcer import get_authorizer
from authz.oidc import JwksFetcher
from authz.permissions import Permission
from authz.principal import PrincipalKind
from persistence.db import Engine, SessionFactory, create_engine, create_session_factory
from persistence.errors import DATABASE_ERRORS
from persistence.fast.sql import Pool, create_pool
from persistence.migrate import migration_status

log = logging.getLogger("vigil.app")


@dataclass
class Runtime:
    """What the app holds for its lifetime: the first four fields are made with the app, the rest in its lifespan
    (never at import time)."""

    settings: Settings
    database_health: DatabaseHealth
    rate_limiter: RateLimiter
    scrape_cache: ScrapeCache
    database: DatabaseHandle | None = None
    engine: Engine | None = None
    sessions: SessionFactory | None = None
    pool: Pool | None = None
    jobs: Jobs = field(default_factory=Jobs)
    """The background jobs (api.lifecycle) and the handles of those requests reach."""


class Refused(Exception):
    """A request refused before execution, answered as a JSON GraphQL error with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class DatabaseUnavailable(Exception):
    """PostgreSQL cannot be reached: while building a request's context, or under a running operation."""


HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}
MAX_OPERATION_NAME = 128
NAMING_PARAMS = ("documentId", "doc_id", "id", "extensions")  # a GET naming a trusted document is no IDE request
_LONG = SHOWN_PREFIX + 1
_QUOTED = re.compile(rf"'([^'\s]{{{_LONG},}})'|\"([^\"\s]{{{_LONG},}})\"")  # a long name or token, quoted
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
MAX_MESSAGE = 300


def tidy_message(message: str, *, production: bool) -> str:
    """Quote at most a short prefix of anything the client sent; in production, suggest no schema names."""
    message = _QUOTED.sub(lambda m: "'" + clip(m.group(1) or m.group(2)) + "'", message)
    if production:
        message = _SUGGESTION.sub("", message)
    return clip(message, MAX_MESSAGE)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class VigilGraphQL(GraphQL[Any, None]):
    def __init__(self, runtime: Runtime, contexts: ContextFactory) -> None:
        settings = runtime.settings
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=not settings.production,
            multipart_uploads_enabled=False,
        )
        self.runtime = runtime
        self.settings = settings
        self.contexts = contexts
        self.documents = DocumentRegistry()
        # Trusted documents run their compiled plans (the same answers, without graphql-core's interpretation).
        self.compiled = (
            install_compiled_execution(self.schema, timeout=settings.execution_timeout)
            if settings.compiled_execution
            else None
        )
        self.trusted = TrustedRoute(self, Refused, MAX_OPERATION_NAME)  # a trusted document's own route

    # --- the body and the URL: anything malformed is a 400 with a JSON GraphQL error, never a 500 ---

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(400, "BAD_REQUEST", "the request body is not valid UTF-8") from None
        try:
            value, depth, plain = decode(data)
        except RecursionError:
            depth, plain = self.settings.max_json_depth + 1, False
        except ValueError:
            raise Refused(400, "BAD_REQUEST", "the request body is not valid JSON") from None
        if depth > self.settings.max_json_depth:
            raise Refused(400, "BAD_REQUEST", f"JSON nested deeper than {self.settings.max_json_depth} levels")
        if plain:
            remember_checked(value)
        return value

    def encode_json(self, data: object) -> str | bytes:
        try:
            return orjson.dumps(data)
        except TypeError:  # an integer past 64 bits in a JSON scalar
            return super().encode_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        value = self.decode_json(data)
        if not isinstance(value, dict):
            raise Refused(400, "BAD_REQUEST", "the request body must be a JSON object (query, variables...)")
        _take_named(value)
        return value

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        parsed: dict[str, Any] = dict(params)
        for key in ("variables", "extensions"):
            if parsed.get(key):
                parsed[key] = self.decode_json(parsed[key])
        _take_named(parsed)
        return parsed

    def should_render_graphql_ide(self, request: Any) -> bool:
        params = request.query_params
        named = any(params.get(key) is not None for key in NAMING_PARAMS)
        return not named and super().should_render_graphql_ide(request)

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        try:
            text = await self.documents.resolve(self.runtime.pool, self.settings.trusted_documents)
        except DocumentRefused as refused:
            raise Refused(refused.status, refused.code, refused.message) from None
        if text is not None and not isinstance(data, list):
            data.query = text
        name = getattr(data, "operation_name", None)
        if name is not None and not isinstance(name, str):
            raise Refused(400, "BAD_REQUEST", "`operationName` must be a string or null")
        if isinstance(name, str) and len(name) > MAX_OPERATION_NAME:
            raise Refused(400, "BAD_REQUEST", f"`operationName` is longer than {MAX_OPERATION_NAME} characters")
        return data

    # --- the principal: database health, then rate limits ---

    async def get_context(self, request: Any, response: Any) -> Any:
        health = self.runtime.database_health
        if health.down and self.runtime.sessions is not None and not await health.probe(self.runtime.sessions):
            raise DatabaseUnavailable
        try:
            context = await self.contexts.build(request, response)
        except DATABASE_ERRORS as exc:
            raise DatabaseUnavailable from exc
        limiter = self.runtime.rate_limiter
        client = request.scope.get("client") or ("unknown", 0)
        refusal = await limiter.check(context.principal, str(client[0]))
        if refusal is not None:
            log.info("rate limited", extra={"principal_id": context.principal.id, "retry_after": refusal.retry_after})
            raise Refused(
                429,
                "RATE_LIMITED",
                f"too many requests: at most {refusal.limit.rate:g} a second (bursts of {refusal.limit.burst}); "
                f"retry in {refusal.retry_after} s",
                {"Retry-After": str(refusal.retry_after)},
            )
        return context

    # --- execution: a time limit, GET rules, faults and outages ---

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        principal = context.principal
        try:
            await self.documents.admit(
                self.runtime.pool,
                self.settings.trusted_documents,
                token_id=principal.token_id if principal.kind is PrincipalKind.PARTNER else None,
                may_send_text=context.permissions.allows(Permission.DOCUMENTS_ADHOC),
            )
        except DocumentRefused as refused:
            raise Refused(refused.status, refused.code, refused.message) from None
        timeout = self.settings.execution_timeout
        try:
            async with asyncio.timeout(timeout):
                result = await super().execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
        except HTTPException as exc:
            if request_adapter.method == "GET" and exc.status_code == 400 and "not allowed" in exc.reason:
                kind = "mutations" if "mutation" in exc.reason else "queries"
                where = "" if kind == "mutations" else " in production"
                raise Refused(
                    405, "METHOD_NOT_ALLOWED", f"{kind} must be sent with POST{where}", {"Allow": "POST"}
                ) from None
            raise
        except TimeoutError:
            log.warning("operation stopped after %s s", timeout, extra={"operation_name": request_data.operation_name})
            error = GraphQLError(
                f"the operation took longer than {timeout:g} s and was stopped: ask for less",
                extensions={"code": "TIMEOUT"},
            )
            result = ExecutionResult(data=None, errors=[error])
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the request itself is being cancelled
            # a future shared with a cancelled sibling leaked its cancellation: a fault, not an outage
            log.error("an operation was cancelled from within", exc_info=True)
            result = ExecutionResult(data=None, errors=[GraphQLError("Unexpected error.")])
        unavailable = getattr(context, "database_unavailable", None)
        if unavailable is not None:
            raise DatabaseUnavailable from unavailable
        return result

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        data: Any = await super().process_result(request, result)
        for error in data.get("errors") or ():
            error["message"] = tidy_message(str(error.get("message", "")), production=self.settings.production)
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        health = self.runtime.database_health
        response: Response
        try:
            request = Request(scope=scope, receive=receive)
            response = await self.trusted.run(request) or await self.run(request)
        except Refused as refused:
            response = error_response(refused.status, refused.code, refused.message, refused.headers)
        except HTTPException as exc:
            code = HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
            headers = {"Allow": "GET, POST"} if exc.status_code == 405 else None
            response = error_response(exc.status_code, code, clip(exc.reason, MAX_MESSAGE), headers)
        except DatabaseUnavailable as exc:
            health.went_away(exc.__cause__)
            response = error_response(
                503,
                "SERVICE_UNAVAILABLE",
                "the service's database is unavailable; try again shortly",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        await response(scope, receive, send)


def _take_named(body: dict[str, Any]) -> None:
    try:
        take_named(body)
    except DocumentRefused as refused:
        raise Refused(refused.status, refused.code, refused.message) from None


def create_app(
    settings: Settings | None = None, *, database_url: str | None = None, oidc_fetch: JwksFetcher | None = None
) -> Starlette:
    """The app. ``oidc_fetch`` replaces the HTTP fetch of the OIDC issuer's documents (tests)."""
    settings = settings or Settings()
    install_request_id()
    tracing.configure_from_environment()
    runtime = Runtime(
        settings=settings,
        database_health=DatabaseHealth(),
        rate_limiter=RateLimiter(settings),
        scrape_cache=ScrapeCache(ttl=settings.metrics_cache_seconds),
    )
    authorizer = get_authorizer()  # one per process: its tables are warmed once, whatever the number of apps
    contexts = ContextFactory(
        runtime_sessions=lambda: _sessions(runtime),
        authorizer=authorizer,
        settings=settings,
        oidc=build_oidc_verifier(settings, oidc_fetch),
        runtime_pool=lambda: runtime.pool,
        runtime_jobs=lambda: runtime.jobs,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if database_url is not None:
            runtime.database = DatabaseHandle(url=database_url)
        else:
            runtime.database = resolve_database(settings, probe=False)
        engine = runtime.engine = create_engine(runtime.database.url, pool_size=settings.db_pool_size)
        # A failed statement's error never carries its bound values (emails, phones, IPs) into a log line.
        engine.sync_engine.hide_parameters = True
        if tracing.ENABLED:
            tracing.instrument_engine(engine)
        sessions = runtime.sessions = create_session_factory(engine)
        pool = runtime.pool = await create_pool(runtime.database.url, size=settings.db_pool_size)
        tables_dir = None if settings.env is Environment.TEST else settings.data_dir / "cache"
        resources = Resources(settings, sessions, pool, engine, authorizer, tables_dir)
        await start_jobs(resources, runtime.jobs)
        if settings.env is not Environment.TEST:  # a test process builds many apps: their garbage must stay collectable
            tune_collector(settings.gc_threshold)
            freeze_long_lived_objects()
            warm_up = runtime.jobs.authorizer_warm_up
            if warm_up is not None:
                warm_up.add_done_callback(lambda _: freeze_long_lived_objects())
        try:
            yield
        finally:
            await stop_jobs(runtime.jobs)
            await pool.close()
            await runtime.rate_limiter.close()
            await engine.dispose()
            runtime.database.close()
            tracing.shutdown()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        if runtime.sessions is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        status = await migration_status(runtime.sessions)
        code = 200 if status.ready else 503
        return JSONResponse(status.as_dict(), status_code=code)

    def scrape_sources() -> ScrapeSources | None:
        return None if runtime.pool is None else ScrapeSources(runtime.pool, runtime.sessions)

    metrics = metrics_endpoint(runtime.scrape_cache, scrape_sources, settings.metrics_token, settings.production)
    graphql_app = VigilGraphQL(runtime, contexts)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(GraphQLResponseMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.state.runtime = runtime
    return app


def app_from_environment() -> Starlette:
    """The app of one server worker process (``vigil serve`` with several workers): settings from the environment."""
    from api.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)


def _sessions(runtime: Runtime) -> SessionFactory:
    if runtime.sessions is None:
        raise RuntimeError("the database is not ready yet")
    return runtime.sessions
