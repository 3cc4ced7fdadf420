"""The application's own PostgreSQL role: it reads and writes the data but owns nothing.

Migrations run as the owner of the tables; the API connects as this role. The role may SELECT and INSERT on the
audit tables and nothing more: it cannot UPDATE, DELETE or TRUNCATE them, and since only an owner may ALTER or
DROP a table, it can neither drop the audit trail nor disable its append-only triggers. On `alembic_version` it
may only read (`/readyz` compares the revision). Run `grant_app_role` again after each migration: grants apply
to the tables that exist when they are given.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy.engine import make_url

AUDIT_TABLES: Final = ("audit_events", "audit_seals")
READ_ONLY_TABLES: Final = ("alembic_version",)
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_role_name(role: str) -> str:
    if not _ROLE_NAME.match(role):
        raise ValueError(f"role name {role!r}: lower-case letters, digits and underscores, at most 63")
    return role


async def grant_app_role(url: str, role: str, password: str | None = None) -> None:
    """Create ``role`` (LOGIN; with ``password`` when given) unless it exists, and grant it what the API needs
    on the database of ``url`` (connected as the tables' owner or a superuser)."""
    import asyncpg

    check_role_name(role)
    target = make_url(url)
    conn = await asyncpg.connect(target.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        async with conn.transaction():
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            if password is not None:
                statement = await conn.fetchval(
                    f"SELECT format('{verb} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", role, password
                )
            else:
                statement = await conn.fetchval(f"SELECT format('{verb} ROLE %I LOGIN', $1::text)", role)
            await conn.execute(statement)
            database = await conn.fetchval("SELECT current_database()")
            for template in app_role_grants():
                await conn.execute(
                    await conn.fetchval("SELECT format($1, $2::text, $3::text)", template, role, database)
                )
    finally:
        await conn.close()


def app_role_grants() -> list[str]:
    """The statements, as `format()` templates: %1$I is the role, %2$I the database."""
    audit = ", ".join(AUDIT_TABLES)
    read_only = ", ".join(READ_ONLY_TABLES)
    return [
        "GRANT CONNECT ON DATABASE %2$I TO %1$I",
        "GRANT USAGE ON SCHEMA public TO %1$I",
        "REVOKE CREATE ON SCHEMA public FROM %1$I",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %1$I",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %1$I",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit} FROM %1$I",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {read_only} FROM %1$I",
    ]
