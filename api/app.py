"""The ASGI application: `/graphql` (GraphiQL in development), `/healthz`, `/readyz`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from api.bootstrap import DatabaseHandle, resolve_database
from api.graphql.context import ContextFactory
from api.graphql.schema import build_schema
from api.http_negotiation import GraphQLResponseMiddleware
from api.logs import install_request_id
from api.middleware import RequestContextMiddleware
from api.oidc_fetch import build_oidc_verifier
from api.settings import Settings
from authz.enforcer import Authorizer
from authz.oidc import JwksFetcher
from persistence.audit import AuditSealer
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.migrate import migration_status

log = logging.getLogger("vigil.app")


@dataclass
class Runtime:
    """What the app holds for its lifetime; built in the lifespan, never at import time."""

    settings: Settings
    database: DatabaseHandle | None = None
    sessions: SessionFactory | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class VigilGraphQL(GraphQL[Any, None]):
    def __init__(self, runtime: Runtime, contexts: ContextFactory) -> None:
        settings = runtime.settings
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.runtime = runtime
        self.contexts = contexts

    async def get_context(self, request: Any, response: Any) -> Any:
        try:
            return await self.contexts.build(request, response)
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailable from exc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except DatabaseUnavailable:
            log.exception("database unavailable while authenticating a request")
            body = {
                "errors": [
                    {
                        "message": "the service's database is unavailable; try again shortly",
                        "extensions": {"code": "SERVICE_UNAVAILABLE"},
                    }
                ]
            }
            await JSONResponse(body, status_code=503, headers={"Retry-After": "5"})(scope, receive, send)


class DatabaseUnavailable(Exception):
    """Raised while building a request's context when PostgreSQL cannot be reached."""


def create_app(
    settings: Settings | None = None, *, database_url: str | None = None, oidc_fetch: JwksFetcher | None = None
) -> Starlette:
    """The app. ``oidc_fetch`` replaces the HTTP fetch of the OIDC issuer's documents (tests)."""
    settings = settings or Settings()
    install_request_id()
    runtime = Runtime(settings=settings)
    authorizer = Authorizer()
    contexts = ContextFactory(
        runtime_sessions=lambda: _sessions(runtime),
        authorizer=authorizer,
        settings=settings,
        oidc=build_oidc_verifier(settings, oidc_fetch),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if database_url is not None:
            runtime.database = DatabaseHandle(url=database_url)
        else:
            runtime.database = resolve_database(settings, probe=False)
        engine = create_engine(runtime.database.url, pool_size=settings.db_pool_size)
        runtime.sessions = create_session_factory(engine)
        sealer = AuditSealer(runtime.sessions, interval=settings.audit_seal_interval)
        sealer.start()
        runtime.extras["audit_sealer"] = sealer
        try:
            yield
        finally:
            await sealer.stop()
            await engine.dispose()
            runtime.database.close()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        if runtime.sessions is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        status = await migration_status(runtime.sessions)
        code = 200 if status.ready else 503
        return JSONResponse(status.as_dict(), status_code=code)

    graphql_app = VigilGraphQL(runtime, contexts)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(GraphQLResponseMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.state.runtime = runtime
    return app


def _sessions(runtime: Runtime) -> SessionFactory:
    if runtime.sessions is None:
        raise RuntimeError("the database is not ready yet")
    return runtime.sessions
