"""Beyond one machine: drill d1's service on Ray Serve and d6's batch job on Ray Data (notebook 10).

- ``cluster``: start a small local Ray cluster (or join one at ``RAY_ADDRESS``) and shut it down
  leaving no process behind;
- ``model``: the model as a Ray Serve deployment, loaded in the replica's constructor and batched by
  ``@serve.batch`` (16 texts or 50 ms), a poisoned text failing alone;
- ``ingress``: the d1 HTTP contract as a FastAPI ingress deployment, Ray's backpressure turned into
  the course's 429 with ``Retry-After``;
- ``app``: the application: replicas or autoscaling, queue bounds, the HTTP proxy on loopback;
- ``serve``: ``python -m mlcourse.distributed.serve`` (``make serve-ray``);
- ``batch_job``: score every row of a CSV with ``map_batches`` over a pool of model actors.
"""
