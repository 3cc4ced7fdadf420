"""How webhooks reach the network: names resolved by us, connections opened only to the addresses we checked.

``SystemResolver`` is the app's ``domain.outbox.webhook_address.Resolver`` (the system's ``getaddrinfo``, with a
timeout); ``RESOLVER`` is the one registration uses (tests replace it). ``pinned_client`` is the dispatcher's
HTTP client: its connections are opened by ``PinnedBackend``, which connects only to the addresses the current
delivery checked (``pinned(host, addresses)``, a context variable) and refuses any other host, proxies included.
The request still names the host, so the ``Host`` header, TLS SNI and the certificate check are the host's, and
kept-alive connections are per host. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from domain.outbox.webhook_address import IPAddress, Resolver

if TYPE_CHECKING:
    import httpx

_PINNED: contextvars.ContextVar[tuple[str, tuple[IPAddress, ...]] | None] = contextvars.ContextVar(
    "vigil_webhook_pinned", default=None
)


class SystemResolver:
    """The system resolver (``getaddrinfo``), at most ``timeout`` seconds a name."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError, UnicodeError, ValueError):
            return []
        found: dict[IPAddress, None] = {}
        for info in infos:
            with contextlib.suppress(ValueError):
                found[ipaddress.ip_address(info[4][0])] = None
        return list(found)


RESOLVER: Resolver = SystemResolver()


@contextlib.contextmanager
def pinned(host: str, addresses: Sequence[IPAddress]) -> Iterator[None]:
    """Within the block, a connection to ``host`` goes to ``addresses`` (in order) and nowhere else."""
    token = _PINNED.set((host, tuple(addresses)))
    try:
        yield
    finally:
        _PINNED.reset(token)


@functools.cache
def _pinned_transport() -> type[httpx.AsyncHTTPTransport]:
    """The dispatcher's transport class, defined on the first client made: httpx and httpcore (~0.15 s to import)
    are not loaded by a start that sends no webhook (registration only resolves names)."""
    import httpcore
    import httpx

    class PinnedBackend(httpcore.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            pin = _PINNED.get()
            if pin is None or pin[0] != host or not pin[1]:
                raise httpcore.ConnectError(f"{host} is not a checked webhook host")
            failure: Exception | None = None
            for address in pin[1]:
                try:
                    return await self._inner.connect_tcp(
                        str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    failure = exc
            assert failure is not None
            raise failure

        async def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            raise httpcore.ConnectError("webhooks do not use unix sockets")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    class _PinnedTransport(httpx.AsyncHTTPTransport):
        def __init__(self, verify: ssl.SSLContext | bool) -> None:
            super().__init__(verify=verify)
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
            # httpx builds its pool without a network backend parameter: the same pool, with ours. (The environment
            # may still name CA certificates, SSL_CERT_FILE; proxies it names are not used: see pinned_client.)
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=httpx.create_ssl_context(verify=verify),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=PinnedBackend(),
            )

    return _PinnedTransport


def pinned_client(timeout: float, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The dispatcher's client: pinned connections, no proxies from the environment, no redirects."""
    import httpx

    return httpx.AsyncClient(
        transport=_pinned_transport()(verify), timeout=timeout, follow_redirects=False, trust_env=False
    )
