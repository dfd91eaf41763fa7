"""Drill d1's HTTP API, everything around the learner's app: its contract, a fake model, and two ways to run it.

- ``contract``: the fixed shapes (``predict_batch``, the JSON error body, the input limits) that
  the starter, the solution, the checks and the tools all share;
- ``fake_model``: a deterministic stand-in for the model with a chosen cost, to test batching;
- ``inprocess``: the app inside the current event loop, lifespan included, for checks and notebooks;
- ``loopback``: the app under uvicorn on a loopback port inside the current event loop, for checks
  that need a real HTTP server (client disconnects, slow bodies, shutdown order);
- ``serve``: the app under uvicorn, ``python -m mlcourse.api.serve`` (``make serve``).
"""
