"""A concurrent HTTP/1.1 load client (N keep-alive connections, one request in flight on each,
like wrk or hey), the same load through httpx as a cross-check, and a login for a token."""

import asyncio
import http.client
import json
import time
import urllib.parse
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.lib.cpu import CpuMeter
from bench.lib.ports import HOST
from bench.lib.stats import percentile


@dataclass(frozen=True)
class Request:
    """One POST: path, headers and body, sent as they are."""

    path: str
    headers: dict[str, str]
    body: bytes

    def raw(self, port: int) -> bytes:
        """The request's bytes on the wire, built once before the clock starts."""
        head = [f"POST {self.path} HTTP/1.1", f"Host: {HOST}:{port}",
                *(f"{k}: {v}" for k, v in self.headers.items()),
                f"Content-Length: {len(self.body)}", "", ""]
        return "\r\n".join(head).encode("latin-1") + self.body


@dataclass
class Result:
    """What a run of requests gave: latencies, statuses, throughput, the CPU it cost."""

    label: str
    latencies: list[float]  # seconds, one per request
    wall: float  # seconds from the first request sent to the last answer read
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str = ""
    meter: CpuMeter | None = None
    bodies: list[bytes] | None = None  # set to a list to keep each response's body

    def cores(self, group: str) -> float:
        """The CPU cores `group` kept busy on average over the run."""
        return self.meter.groups[group] / self.wall if self.meter else 0.0

    @property
    def rps(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.wall

    def percentile_ms(self, q: float) -> float:
        """The latency at quantile q (0..1, nearest rank), in ms."""
        return percentile(self.latencies, q * 100) * 1000

    @property
    def errors(self) -> int:
        """Answers other than 2xx (0 = the connection failed)."""
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


class LoadClient(Protocol):
    """Open connections once, run batches of requests on them, close them."""

    async def open(self) -> None:
        """Open the connections, before any clock starts."""

    async def close(self) -> None:
        """Close them."""

    async def run(self, requests: list[Request], result: Result) -> None:
        """Send every request, `concurrency` at a time; fill in `result`."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Status, keep-alive and body of one HTTP/1.1 answer (length-delimited or chunked)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    keep = headers.get("connection") != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body, keep = await reader.read(), False
    return status, keep, body


class RawClient:
    """N keep-alive HTTP/1.1 connections, one request in flight on each (like wrk or hey)."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.port, self.concurrency = port, concurrency
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.reconnects = 0

    async def open(self) -> None:
        """One connection per client, opened before the clock starts."""
        for _ in range(self.concurrency):
            self.conns.append(await asyncio.open_connection(HOST, self.port))

    async def close(self) -> None:
        """Close every connection."""
        for _, writer in self.conns:
            writer.close()
        self.conns = []

    async def run(self, requests: list[Request], result: Result) -> None:
        """Each connection takes the next request when its answer is read; reconnects when
        the server closes (counted as a failed request when it drops one)."""
        raw = [r.raw(self.port) for r in requests]
        todo = iter(range(len(raw)))
        result.latencies = [0.0] * len(raw)
        if result.bodies is not None:
            result.bodies[:] = [b""] * len(raw)

        async def worker(slot: int) -> None:
            reader, writer = self.conns[slot]
            for i in todo:
                start = time.perf_counter()
                try:
                    writer.write(raw[i])
                    status, keep, body = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError) as error:
                    # Counted as a failed request (status 0), as a real client would see it.
                    status, keep, body = 0, False, repr(error).encode()
                result.latencies[i] = time.perf_counter() - start
                result.statuses[status] += 1
                if result.bodies is not None:
                    result.bodies[i] = body
                if not 200 <= status < 300 and not result.first_error:
                    result.first_error = f"{status} {body[:300]!r}"
                if not keep:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, self.port)
                    self.reconnects += 1
                    self.conns[slot] = (reader, writer)

        start = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in range(len(self.conns))))
        result.wall = time.perf_counter() - start


class HttpxClient:
    """The same load through httpx.AsyncClient (slower per request; a cross-check)."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.port, self.concurrency = port, concurrency

    async def open(self) -> None:
        """An AsyncClient keeping up to `concurrency` connections."""
        import httpx

        limits = httpx.Limits(max_connections=self.concurrency,
                              max_keepalive_connections=self.concurrency)
        self.client = httpx.AsyncClient(base_url=f"http://{HOST}:{self.port}", limits=limits,
                                        timeout=60)

    async def close(self) -> None:
        """Close the client."""
        await self.client.aclose()

    async def run(self, requests: list[Request], result: Result) -> None:
        """`concurrency` tasks, each sending the next request when its answer came."""
        todo = iter(range(len(requests)))
        result.latencies = [0.0] * len(requests)
        if result.bodies is not None:
            result.bodies[:] = [b""] * len(requests)

        async def worker() -> None:
            for i in todo:
                r = requests[i]
                start = time.perf_counter()
                response = await self.client.post(r.path, content=r.body, headers=r.headers)
                result.latencies[i] = time.perf_counter() - start
                result.statuses[response.status_code] += 1
                if result.bodies is not None:
                    result.bodies[i] = response.content
                if not response.is_success and not result.first_error:
                    result.first_error = f"{response.status_code} {response.text[:300]!r}"

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        result.wall = time.perf_counter() - start


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on uvloop when installed (a faster load generator), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def login(port: int, username: str, password: str) -> str:
    """A bearer token from POST /api/v1/auth/token, as a client gets one."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    body = urllib.parse.urlencode({"username": username, "password": password})
    try:
        conn.request("POST", "/api/v1/auth/token", body=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"login as {username} failed: {response.status} {payload!r}")
    token: str = json.loads(payload)["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}
