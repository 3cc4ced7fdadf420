"""Runtime settings, read from the environment (``VIGIL_*``) and an optional ``.env`` file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of the service. Defaults suit a developer machine."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://... ; unset: an embedded PostgreSQL in data_dir/pg is started",
    )
    data_dir: Path = PROJECT_ROOT / ".data"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    # GraphQL request limits, enforced in every mode.
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_body_bytes: int = 1_000_000
    db_pool_size: int = 10
    audit_seal_interval: float = Field(
        default=2.0, ge=0, description="Seconds between audit sealing passes in the running app; 0 disables."
    )

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"
