"""The DSA Transparency Database's statement API over HTTP (httpx): the batch endpoint and the existing-puid look-up.

Every call carries the platform's API token (``Authorization: Bearer``). A 429 or a 5xx answer, or no answer at
all, is retried with exponential backoff (a 429's ``Retry-After`` is honoured, capped); other 4xx are final.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from domain.dsa.services.submission import BatchAnswer
from domain.dsa.statement_rules import DUPLICATE_PUID

BATCH_PATH: Final = "/api/v1/statements"
PUID_PATH: Final = "/api/v1/statement/existing-puid/"
RETRY_AFTER_MAX: Final = 60.0

if TYPE_CHECKING:
    import httpx


class SubmissionFailed(Exception):
    """The database gave no usable answer (after the retries): the batch's statements stay IN_FLIGHT and the
    next run reconciles them by puid. The message holds no statement content."""


class TransparencyDatabaseClient:
    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        attempts: int = 6,
        backoff: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        import httpx  # on the first submission run, not when `vigil serve` starts (~0.1 s to import)

        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self.retries = 0  # retried calls, for the run's summary
        self.http = httpx.AsyncClient(
            base_url=endpoint.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,  # the puid look-up answers 302 when it finds one
            transport=transport,
        )

    async def __aenter__(self) -> TransparencyDatabaseClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """The answer, retrying what is worth retrying; no wait after the last try (it would only delay the
        failure)."""
        import httpx

        failure, delay = "no answer", 0.0
        for attempt in range(self.attempts):
            if attempt:
                self.retries += 1
                await self.sleep(delay)
            try:
                response = await self.http.request(method, path, json=body)
            except httpx.TransportError as exc:
                failure, delay = f"no answer ({type(exc).__name__})", self._delay(attempt, None)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                failure = f"HTTP {response.status_code}"
                delay = self._delay(attempt, response.headers.get("Retry-After"))
                continue
            return response
        raise SubmissionFailed(f"{method} {path}: {failure} after {self.attempts} attempt(s)")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), RETRY_AFTER_MAX)
            except ValueError:
                pass
        jitter = 0.5 + random.random() / 2  # noqa: S311 (jitter, not a secret)
        return float(self.backoff * (2**attempt) * jitter)

    async def send(self, statements: Sequence[Mapping[str, Any]]) -> BatchAnswer:
        response = await self._call("POST", BATCH_PATH, {"statements": list(statements)})
        body = _json(response)
        puids = [str(s.get("puid")) for s in statements]
        if response.status_code in (200, 201):
            created = body.get("statements") if isinstance(body, dict) else None
            if not isinstance(created, list):
                raise SubmissionFailed(f"POST {BATCH_PATH}: HTTP {response.status_code} without statements")
            accepted = {str(s.get("puid")): str(s.get("uuid")) for s in created if isinstance(s, dict)}
            return BatchAnswer(accepted=accepted)
        if response.status_code == 422 and isinstance(body, dict):
            return _refusal(body, puids)
        raise SubmissionFailed(f"POST {BATCH_PATH}: HTTP {response.status_code}")

    async def find(self, puid: str) -> str | None:
        response = await self._call("GET", PUID_PATH + quote(puid, safe=""))
        if response.status_code == 404:
            return None
        body = _json(response)
        if response.status_code in (200, 302) and isinstance(body, dict) and body.get("uuid"):
            return str(body["uuid"])
        raise SubmissionFailed(f"GET {PUID_PATH}: HTTP {response.status_code}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refusal(body: Mapping[str, Any], puids: list[str]) -> BatchAnswer:
    """A 422: per statement (``statement_<index>``: field → messages), or for the whole call (``puid``)."""
    errors = body.get("errors")
    if not isinstance(errors, dict):
        return BatchAnswer()
    refused: dict[str, list[str]] = {}
    duplicates: set[str] = set()
    for key, fields in errors.items():
        if key == "puid":  # about the call's puids as a whole: look each one up
            duplicates.update(puids)
            continue
        index = key.removeprefix("statement_")
        if not index.isdigit() or int(index) >= len(puids) or not isinstance(fields, dict):
            continue
        puid = puids[int(index)]
        reasons = [f"{name}: {m}" for name, messages in fields.items() for m in messages if isinstance(m, str)]
        if reasons and all(r == f"puid: {DUPLICATE_PUID}" for r in reasons):
            duplicates.add(puid)
        else:
            refused[puid] = reasons
    return BatchAnswer(refused=refused, duplicates=frozenset(duplicates))
