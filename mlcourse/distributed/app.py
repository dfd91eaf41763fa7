"""The application: ingress + model deployment, their queue bounds, replicas or autoscaling, the proxy.

The knobs, next to the course's batcher (``create_app``) and Nx.Serving:

| course batcher / Nx.Serving        | Ray Serve                                                     |
|------------------------------------|---------------------------------------------------------------|
| ``max_batch_size=16`` / batch_size | ``@serve.batch(max_batch_size=16)``                           |
| ``max_wait_ms=50`` / batch_timeout | ``@serve.batch(batch_wait_timeout_s=0.05)``                   |
| ``queue_limit=200``, 429           | ``max_queued_requests=200`` at the caller's router, then 429  |
| one worker running the model       | ``max_ongoing_requests`` per replica (a batch running, one filling) |
| partitions / nodes of a cluster    | ``num_replicas`` or ``autoscaling_config``, spread over nodes |
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.config import BackpressureConfig

from mlcourse.api.contract import QUEUE_LIMIT  # d1's: requests waiting for a model slot, beyond which 429
from mlcourse.distributed.ingress import RETRY_AFTER_S, SentimentIngress
from mlcourse.distributed.model import MAX_BATCH_SIZE, ModelSpec, SentimentModel

MAX_ONGOING = 2 * MAX_BATCH_SIZE  # per replica: one batch in the model and the next one filling
INGRESS_MAX_ONGOING = 1000  # the ingress only parses and awaits: Ray's default of 5 would be the bottleneck
APP_NAME = "sentiment"


def autoscaling(max_replicas: int = 2) -> dict[str, Any]:
    """Add a replica when each has more than a batch's worth of requests outstanding; drop it when idle."""
    return {
        "min_replicas": 1,
        "max_replicas": max_replicas,
        "target_ongoing_requests": MAX_BATCH_SIZE,
        "upscale_delay_s": 3,
        "downscale_delay_s": 30,
    }


def sentiment_app(
    spec: ModelSpec,
    *,
    impl: str,
    replicas: int = 1,
    max_replicas: int | None = None,
    queue_limit: int = QUEUE_LIMIT,
    max_ongoing: int = MAX_ONGOING,
    model_cpus: float = 1.0,
) -> serve.Application:
    """The bound application; ``max_replicas`` switches from a fixed ``replicas`` to autoscaling up to it.

    ``impl`` is whose d1 input parsing the ingress uses (drills, solutions or a folder)."""
    scale = {"autoscaling_config": autoscaling(max_replicas)} if max_replicas else {"num_replicas": replicas}
    # @serve.deployment made each class a Deployment; mypy keeps a decorated class's own type.
    model = SentimentModel.options(  # type: ignore[attr-defined]
        max_ongoing_requests=max_ongoing,
        max_queued_requests=queue_limit,
        ray_actor_options={"num_cpus": model_cpus},
        **scale,
    )
    ingress = SentimentIngress.options(  # type: ignore[attr-defined]
        max_ongoing_requests=INGRESS_MAX_ONGOING,
        max_queued_requests=INGRESS_MAX_ONGOING,
        # overflow before the ingress is Ray's own: 429 too, though with a plain-text body
        backpressure_config=BackpressureConfig(status_code=429, retry_after_s=float(RETRY_AFTER_S)),
    )
    return ingress.bind(model.bind(spec), impl)


def run(
    application: serve.Application,
    port: int,
    host: str = "127.0.0.1",
    *,
    name: str = APP_NAME,
    route_prefix: str = "/",
    request_timeout_s: float = 30.0,
) -> str:
    """Start the HTTP proxy on ``host:port`` (once per cluster) and deploy ``application`` under
    ``route_prefix``; return its base URL once every replica is up (models loaded)."""
    serve.start(http_options={"host": host, "port": port, "request_timeout_s": request_timeout_s})
    serve.run(application, name=name, route_prefix=route_prefix, blocking=False)
    return f"http://{host}:{port}{route_prefix.rstrip('/')}"
