"""The load generator: a separate process that sends pre-encoded HTTP/1.1 requests over keep-alive connections.

A hand-written client on purpose: httpx spends more CPU per request than the server path being measured, and on a
2-core machine the generator's CPU is taken from the server. Each worker holds one connection and sends its
requests one after another; the job ends when every request has been answered.

    python -m bench.load JOB.json      # prints one JSON line: count, seconds, statuses, latencies, sample bodies

JOB: {"port": 8000, "concurrency": 8, "bodies": [{...graphql request...}], "headers": {...},
      "path": "/graphql", "keep": 3}
``bodies`` are sent in order, round-robin over the workers; ``keep`` response bodies are returned (the first
ones), and every response body is returned when ``keep`` is -1.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    return status, await reader.read()


def encode(path: str, port: int, headers: dict[str, str], body: dict[str, Any]) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
            "Accept: application/json", f"Content-Length: {len(payload)}"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


async def run(job: dict[str, Any]) -> dict[str, Any]:
    port = int(job["port"])
    path = job.get("path", "/graphql")
    headers = job.get("headers", {})
    requests = [encode(path, port, headers, body) for body in job["bodies"]]
    concurrency = int(job["concurrency"])
    keep = int(job.get("keep", 3))
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    kept: list[tuple[int, Any]] = []
    cursor = iter(range(len(requests)))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for index in cursor:
                started = time.perf_counter()
                writer.write(requests[index])
                status, body = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if keep < 0 or len(kept) < keep:
                    kept.append((index, json.loads(body) if body[:1] in (b"{", b"[") else body.decode()))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    kept.sort(key=lambda pair: pair[0])
    return {
        "count": len(latencies),
        "seconds": elapsed,
        "statuses": {str(k): v for k, v in statuses.items()},
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "bodies": [body for _, body in kept],
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
