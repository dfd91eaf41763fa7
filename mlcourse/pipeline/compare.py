"""REST vs gRPC vs the d4 port on loopback: round trips per second, p99, bytes on the wire.

For each transport: ``requests`` round trips one at a time (latency percentiles), then with
``in_flight`` requests in flight (pipelined throughput); bytes per round trip are counted by a
small TCP relay between client and server (REST and gRPC) and from the frames themselves (port,
whose bytes travel on pipes). Bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from mlcourse.pipeline.transports import TRANSPORTS, caller, served
from mlcourse.port.bench import FEATURES, trivial_model


async def timed(predict, requests: int, in_flight: int, max_seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    deadline = time.perf_counter() + max_seconds

    async def one_caller() -> None:
        while len(latencies) < requests and time.perf_counter() < deadline:
            start = time.perf_counter()
            await predict()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(one_caller() for _ in range(in_flight)))
    seconds = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / seconds,
        "p50_ms": float(np.percentile(latencies, 50) * 1e3),
        "p99_ms": float(np.percentile(latencies, 99) * 1e3),
    }


class CountingRelay:
    """A TCP relay on loopback that counts the bytes each way: what the transport put on the wire."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.sent, self.received = target_port, 0, 0
        self.relays: set[asyncio.Task] = set()

    async def close(self) -> None:
        """Stop listening; let the relays see their connections end (cancel them after 2 s)."""
        self.server.close()
        if self.relays:
            _, pending = await asyncio.wait(self.relays, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _relay(self, client_reader, client_writer) -> None:
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection's handler in a task of its own
        self.relays.add(task)
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(reader, writer, direction: str) -> None:
            try:
                while data := await reader.read(65536):
                    setattr(self, direction, getattr(self, direction) + len(data))
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            finally:
                writer.close()

        await asyncio.gather(pipe(client_reader, server_writer, "sent"), pipe(server_reader, client_writer, "received"))


async def wire_bytes(kind: str, impl: str, port: int | None, samples: int = 200) -> float:
    """Bytes per round trip, both directions, in steady state (after a warm-up request)."""
    if kind == "port":
        from mlcourse.impl import load_drill

        encode = load_drill(impl, "d4_port_server").module("protocol").encode_frame
        answer = trivial_model().predict(FEATURES)
        return float(
            len(encode({"ref": 12345, "features": FEATURES})) + len(encode({"ref": 12345, "prediction": answer}))
        )
    assert port is not None, f"the {kind} transport needs its server's port"
    relay = CountingRelay(port)
    relay_port = await relay.start()
    async with caller(kind, impl, relay_port) as predict:
        await predict()
        before = relay.sent + relay.received
        for _ in range(samples):
            await predict()
        counted = relay.sent + relay.received - before
    await relay.close()
    return counted / samples


async def compare(
    impl: str,
    requests: int = 2000,
    in_flight: int = 64,
    max_seconds: float = 10.0,
    transports: tuple[str, ...] = TRANSPORTS,
) -> list[dict[str, Any]]:
    """Round trips per second, latency and bytes of each transport; ``impl`` is whose d4 serves the port."""
    rows = []
    for kind in transports:
        context = None if kind == "port" else served(kind)  # the port server starts its own worker
        port = await context.__aenter__() if context else None
        try:
            async with caller(kind, impl, port) as predict:
                for _ in range(50):
                    await predict()  # warm up: connections open, worker loaded
                sequential = await timed(predict, requests, 1, max_seconds)
                pipelined = await timed(predict, requests * 2, in_flight, max_seconds)
            rows.append(
                {
                    "transport": kind,
                    "sequential_per_s": round(sequential["per_s"]),
                    "p50_ms": round(sequential["p50_ms"], 3),
                    "p99_ms": round(sequential["p99_ms"], 3),
                    "pipelined_per_s": round(pipelined["per_s"]),
                    "in_flight": in_flight,
                    "bytes_per_round_trip": round(await wire_bytes(kind, impl, port)),
                }
            )
        finally:
            if context:
                await context.__aexit__(None, None, None)
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| transport | one at a time (req/s) | p50 (ms) | p99 (ms) | pipelined (req/s) | bytes per round trip |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['transport']} | {r['sequential_per_s']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{r['pipelined_per_s']} ({r['in_flight']} in flight) | {r['bytes_per_round_trip']} |"
        for r in rows
    ]
    return "\n".join(lines)
