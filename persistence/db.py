"""Engine and session factories. Nothing is created at import time: the app and the CLI call these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncResult, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]
Engine = AsyncEngine
"""The session side's engine, named here so that callers above persistence need not import SQLAlchemy."""
Session = AsyncSession
Rows = AsyncResult[Any]
"""A streamed result (``Session.stream``), read partition by partition."""
SESSION_CLIENT: Final = "sqlalchemy"
"""The session side's client, as traces name it (the hot paths' pool is "asyncpg")."""
StatementEnd = Callable[[str | None], None]
"""Called once a statement has ended: with None, or with the name of the error it raised."""


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        echo=echo,
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def observe_statements(engine: AsyncEngine, started: Callable[[str], StatementEnd | None]) -> None:
    """Call ``started(sql)`` before each statement ``engine`` runs, and what it returned (if anything) once the
    statement has ended (tracing's spans for the session side)."""
    sync_engine = engine.sync_engine

    def ended(context: Any, error: str | None) -> None:
        end = getattr(context, "_vigil_statement_end", None)
        if end is not None:
            context._vigil_statement_end = None
            end(error)

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        end = started(statement)
        if end is not None:
            context._vigil_statement_end = end

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        ended(context, None)

    def failed(exception_context: Any) -> None:
        if exception_context.execution_context is not None:
            ended(exception_context.execution_context, type(exception_context.original_exception).__name__)

    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    event.listen(sync_engine, "handle_error", failed)
