"""Runtime settings, read from the environment (``VIGIL_*``) and an optional ``.env`` file."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from authz.oidc import DEFAULT_ALGORITHMS, check_algorithms
from authz.tokens import parse_duration
from domain.document import TrustedMode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: What each setting accepts, in words, for configuration errors (a setting not listed shows pydantic's message).
ACCEPTS: dict[str, str] = {
    "env": "one of development, test, production",
    "port": "a whole number from 1 to 65535",
    "host": "a host name or IP address to bind, e.g. 127.0.0.1 or 0.0.0.0",
    "log_level": "one of " + ", ".join(LOG_LEVELS),
    "max_query_depth": "a whole number of at least 1",
    "max_aliases": "a whole number of at least 1",
    "max_tokens": "a whole number of at least 1",
    "max_body_bytes": "a whole number of bytes, at least 1",
    "db_pool_size": "a whole number of at least 1",
    "audit_seal_interval": "a number of seconds, 0 or more (0 disables sealing in the app)",
    "dispatcher": "on or off",
    "webhook_timeout": "a number of seconds, more than 0 and at most 60",
    "dispatch_interval": "a number of seconds, more than 0 and at most 60",
    "oidc_jwks_cache_seconds": "a whole number of seconds, at least 1",
    "oidc_max_token_lifetime": "a whole number of seconds (at least 60) or a duration such as 24h, 90m, 7d",
    "data_dir": "a directory path",
    "metrics_cache_seconds": "a number of seconds, 0 or more",
    "trusted_documents": "one of off, optional, required",
    "compiled_execution": "on or off",
}


class ConfigError(Exception):
    """A setting's value is unusable; the message is one line naming the ``VIGIL_`` variable."""


def describe_settings_error(error: ValidationError) -> str:
    """One line per wrong setting: ``VIGIL_PORT='abc' is not valid: expected a whole number from 1 to 65535``."""
    lines = []
    for item in error.errors():
        loc = item.get("loc") or ()
        if not loc:  # a cross-field rule: its message names the variables itself
            lines.append(str(item.get("msg", "invalid configuration")).removeprefix("Value error, "))
            continue
        name = str(loc[0])
        expected = ACCEPTS.get(name) or str(item.get("msg", "")).removeprefix("Value error, ")
        value = item.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        lines.append(f"VIGIL_{name.upper()}{shown} is not valid: expected {expected}")
    return "; ".join(lines) or str(error)


def load_settings() -> Settings:
    """``Settings()``, or ``ConfigError`` with one line naming each wrong ``VIGIL_`` variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe_settings_error(exc)) from None


def parse_rate(text: str) -> tuple[float, int]:
    """`"50/200"`: 50 requests a second on average, bursts of up to 200."""
    per_second, _, burst = text.partition("/")
    try:
        rate, size = float(per_second), int(burst)
    except ValueError:
        raise ValueError(f"a rate limit is `<requests per second>/<burst>`, e.g. 50/200, got {text!r}") from None
    if rate <= 0 or size < 1:
        raise ValueError(f"a rate limit needs a positive rate and a burst of at least 1, got {text!r}")
    return rate, size


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
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"

    # GraphQL request limits, enforced in every mode.
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    max_query_cost: int = Field(
        default=50_000,
        ge=1,
        description="Largest estimated cost (resolver calls, multiplied through lists) of one operation",
    )
    max_directives: int = Field(default=20, ge=0, description="Most directives one document may use")
    max_json_depth: int = Field(default=32, ge=2, description="Deepest nesting accepted in a JSON body or variables")
    execution_timeout: float = Field(default=10.0, gt=0, description="Seconds one operation may run")
    trusted_documents: TrustedMode = Field(
        default=TrustedMode.OPTIONAL,
        description="off: document text only; optional: text or a registered document's id; required: registered "
        "documents only (holders of documents:adhoc may still send text)",
    )
    compiled_execution: bool = Field(
        default=True,
        description="Run trusted documents through their compiled plans (api/graphql/compiler); off: graphql-core",
    )
    rate_limits: bool = Field(default=True, description="Per-principal request rate limits on /graphql")
    rate_limit_token: str = Field(
        default="5000/20000", description="API tokens (partners, platform services): `per second/burst`"
    )
    rate_limit_staff: str = Field(default="200/1000", description="Staff members: `per second/burst`")
    rate_limit_anonymous: str = Field(default="50/200", description="Anonymous callers, per client IP")
    rate_limit_overrides: dict[str, str] = Field(
        default_factory=dict,
        description='Per token id or principal id: `{"<id>": "<per second>/<burst>"}` (JSON)',
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db: share rate limits between app servers; unset: in memory"
    )
    rules_backlog_grace: float = Field(
        default=30.0,
        gt=0,
        description="Seconds after which accepted events the rules have not run on yet are evaluated again",
    )
    rules_retention_days: int = Field(
        default=90,
        ge=31,
        description="Days finished delayed rule actions are kept (at least 31: a row is what stops an event "
        "evaluated again from scheduling its action twice, as action records are kept 31 days)",
    )
    db_pool_size: int = Field(default=10, ge=1)
    principal_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="how long a resolved token is reused per process; a revoked or expired token is refused at most "
        "this long after the fact (0 disables the cache)",
    )
    workers: int = Field(
        default=0,
        ge=0,
        description="server processes; 0: one per core in production, one otherwise (the dev server stays single)",
    )
    gc_threshold: int = Field(
        default=50_000,
        ge=700,
        description="allocations between young collections of the cyclic garbage collector in a server or consumer "
        "process (Python's default: 700); a request's short-lived objects otherwise set off dozens of collections",
    )
    audit_seal_interval: float = Field(
        default=2.0, ge=0, description="Seconds between audit sealing passes in the running app; 0 disables."
    )
    run_bulk_jobs: bool | None = Field(
        default=None,
        description="run bulk jobs in this process (and resume those whose process stopped); unset: yes, except in "
        "the test environment, where tests drive them",
    )
    metrics_token: str | None = Field(
        default=None,
        description="`GET /metrics` needs `Authorization: Bearer <token>`; unset: open outside production, 404 in it",
    )
    metrics_cache_seconds: float = Field(
        default=5.0, ge=0, description="how long a process reuses the database figures of /metrics"
    )

    # EU DSA Transparency Database (`vigil dsa submit`): the API's base URL and the platform's API token.
    dsa_endpoint: str | None = Field(
        default=None, description="base URL of the DSA Transparency Database API, e.g. its sandbox while onboarding"
    )
    dsa_token: str | None = Field(default=None, description="the platform's API token for that database (secret)")
    dsa_batch_size: int = Field(default=100, ge=1, le=100, description="statements per batch call (at most 100)")
    dsa_attempts: int = Field(default=6, ge=1, le=20, description="tries per call on 429, 5xx or no answer")
    dsa_backoff: float = Field(default=1.0, ge=0, le=60, description="seconds before the first retry (doubling)")
    dsa_interval: float = Field(
        default=60.0, gt=0, le=86_400, description="seconds between the dispatcher's submission runs"
    )

    dispatcher: bool | None = Field(
        default=None,
        description="run the event dispatcher inside `vigil serve` (on/off); unset: on, except in the test env",
    )
    nats_url: str | None = Field(default=None, description="nats://host:4222: also publish events to JetStream")
    events_retention_days: int | None = Field(
        default=None, ge=1, description="days of platform events `vigil events prune` keeps (whole months are dropped)"
    )
    webhook_timeout: float = Field(default=10.0, gt=0, le=60, description="seconds a webhook endpoint may take")
    dispatch_interval: float = Field(default=0.5, gt=0, le=60, description="seconds between dispatcher passes")

    # Staff login with JWTs from an OIDC issuer: on only when both issuer and audience are set.
    oidc_issuer: str | None = Field(default=None, description="the `iss` claim staff JWTs must carry, exactly")
    oidc_audience: str | None = Field(default=None, description="the `aud` value staff JWTs must carry")
    oidc_jwks_url: str | None = Field(
        default=None, description="the issuer's JWKS; unset: `jwks_uri` of <issuer>/.well-known/openid-configuration"
    )
    oidc_subject_claim: str = Field(default="sub", description="the claim holding the staff principal's name")
    oidc_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS),
        description="accepted JWT algorithms (public-key only); env: comma-separated or a JSON list",
    )
    oidc_jwks_cache_seconds: int = Field(default=300, ge=1, description="how long fetched signing keys are reused")
    oidc_max_token_lifetime: int = Field(
        default=24 * 3600,
        ge=60,
        description="the longest lifetime (exp - iat) of an accepted staff JWT, in seconds or as 24h, 90m, 7d",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("oidc_algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",") if part]
        return value

    @field_validator("oidc_max_token_lifetime", mode="before")
    @classmethod
    def _lifetime_as_duration(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() and not value.strip().isdigit():
            return int(parse_duration(value).total_seconds())
        return value

    @field_validator("oidc_algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str]) -> list[str]:
        return list(check_algorithms(value))

    @field_validator("rate_limit_token", "rate_limit_staff", "rate_limit_anonymous")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("rate_limit_overrides")
    @classmethod
    def _check_overrides(cls, value: dict[str, str]) -> dict[str, str]:
        for rate in value.values():
            parse_rate(rate)
        return value

    @field_validator(
        "oidc_issuer",
        "oidc_audience",
        "oidc_jwks_url",
        "redis_url",
        "dsa_endpoint",
        "dsa_token",
        "metrics_token",
        "nats_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _oidc_over_https_in_production(self) -> Self:
        if self.production and self.oidc_enabled:
            for name, url in (("oidc_issuer", self.oidc_issuer), ("oidc_jwks_url", self.oidc_jwks_url)):
                if url is not None and not url.startswith("https://"):
                    raise ValueError(f"VIGIL_{name.upper()} must be an https:// URL in production, got {url!r}")
        return self

    @property
    def oidc_enabled(self) -> bool:
        """Staff JWTs are accepted: both ``oidc_issuer`` and ``oidc_audience`` are set."""
        return self.oidc_issuer is not None and self.oidc_audience is not None

    @property
    def bulk_jobs_in_process(self) -> bool:
        return self.run_bulk_jobs if self.run_bulk_jobs is not None else self.env is not Environment.TEST

    @property
    def dispatcher_enabled(self) -> bool:
        return self.dispatcher if self.dispatcher is not None else self.env is not Environment.TEST

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def worker_count(self) -> int:
        if self.workers:
            return self.workers
        return (os.cpu_count() or 1) if self.production else 1

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"
