"""Where the database comes from: `VIGIL_DATABASE_URL`, or else the embedded PostgreSQL in `.data/pg`."""

from __future__ import annotations

from dataclasses import dataclass

from api.settings import Settings
from persistence.embedded import EmbeddedPostgres, start_embedded

DEV_DATABASE = "vigil"


@dataclass
class DatabaseHandle:
    url: str
    embedded: EmbeddedPostgres | None = None

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def resolve_database(settings: Settings | None = None, database: str = DEV_DATABASE) -> DatabaseHandle:
    settings = settings or Settings()
    if settings.database_url:
        return DatabaseHandle(url=settings.database_url)
    pg = start_embedded(settings.pgdata)
    pg.ensure_database(database)
    return DatabaseHandle(url=pg.url(database), embedded=pg)
