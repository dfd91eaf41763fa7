"""The same trivial model behind three transports: REST (uvicorn), gRPC (grpcio) and the d4 port.

    python -m mlcourse.pipeline.transports rest|grpc PORT     # one server, in its own process

The model is d4's trivial logistic model (one feature, three classes: microseconds in process),
so what is measured is the transport: encoding, the connection, the server's loop. REST and gRPC
servers run in a child process each, as the d4 worker does, so no transport shares the client's
interpreter. ``caller(kind)`` gives an async ``predict()`` for each, used by ``compare``.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from mlcourse.paths import BUILD_DIR, REPO_ROOT
from mlcourse.port.bench import FEATURES, trivial_model

TRANSPORTS = ("rest", "grpc", "port")
MODEL_PATH = BUILD_DIR / "transports" / "trivial-model.json"
Predict = Callable[[], Awaitable[dict]]


def rest_app():
    """A Starlette app: POST /predict {"features": [...]} -> the model's prediction."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    model = trivial_model()

    async def predict(request: Request) -> JSONResponse:
        return JSONResponse(model.predict((await request.json())["features"]))

    return Starlette(routes=[Route("/predict", predict, methods=["POST"])])


async def serve_grpc(port: int) -> None:
    import grpc

    from mlcourse.pipeline.protos import load

    messages, services = load()
    model = trivial_model()

    servicer: Any = services.PredictorServicer  # protoc's generated class: no types to check against

    class Predictor(servicer):
        async def Predict(self, request, context):  # the .proto names it
            answer = model.predict(list(request.values))
            return messages.Prediction(label=answer["label"], probabilities=answer["probabilities"])

    server = grpc.aio.server()
    services.add_PredictorServicer_to_server(Predictor(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def wait_for_port(port: int, child: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the server exited with {child.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout_s:.0f} s")


@asynccontextmanager
async def served(kind: str) -> AsyncIterator[int]:
    """Start the ``kind`` server (rest or grpc) in a child process; yield its port."""
    from mlcourse.api.process import free_port

    port = free_port()
    # Popen returns once the child is started; the waits run in a thread or after the serving block.
    child = subprocess.Popen([sys.executable, "-m", __name__, kind, str(port)], cwd=REPO_ROOT)  # noqa: ASYNC220
    try:
        await asyncio.to_thread(wait_for_port, port, child)
        yield port
    finally:
        child.terminate()
        child.wait(10)


@asynccontextmanager
async def caller(kind: str, impl: str, port: int | None = None) -> AsyncIterator[Predict]:
    """An async ``predict()`` over ``kind``; ``port`` for rest and grpc, ``impl``'s d4 for the port (which
    starts its own worker)."""
    if kind == "rest":
        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            async def predict() -> dict:
                response = await http.post("/predict", json={"features": FEATURES})
                response.raise_for_status()
                return response.json()

            yield predict
    elif kind == "grpc":
        import grpc

        from mlcourse.pipeline.protos import load

        messages, services = load()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = services.PredictorStub(channel)

            async def predict() -> dict:
                reply = await stub.Predict(messages.Features(values=FEATURES), timeout=10)
                return {"label": reply.label, "probabilities": dict(reply.probabilities)}

            yield predict
    elif kind == "port":
        from mlcourse.impl import load_drill
        from mlcourse.port.penguin_model import save_model

        drill = load_drill(impl, "d4_port_server")
        save_model(trivial_model(), MODEL_PATH)
        server = drill.module("supervisor").PortServer(MODEL_PATH, env=drill.env())
        async with server:

            async def predict() -> dict:
                return await server.predict(FEATURES, timeout=10.0)

            yield predict
    else:
        raise ValueError(f"unknown transport {kind!r}: choose from {TRANSPORTS}")


def main(argv: list[str] | None = None) -> int:
    kind, port = (argv or sys.argv[1:])[:2]
    if kind == "rest":
        import uvicorn

        uvicorn.run(rest_app(), host="127.0.0.1", port=int(port), log_level="warning", access_log=False)
    elif kind == "grpc":
        asyncio.run(serve_grpc(int(port)))
    else:
        print(f"usage: python -m {__name__} rest|grpc PORT", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
