"""Drill d1's HTTP API, everything around the learner's app: its contract, a fake model, and two ways to run it.

- ``contract``: the fixed shapes (``predict_batch``, the JSON error body, the batching and input limits) that
  the starter, the solution, the checks and the tools all share;
- ``fake_model``: a deterministic stand-in for the model with a chosen cost, to test batching;
- ``inprocess``: the app inside the current event loop, lifespan included, for checks and notebooks;
- ``loopback``: the app under uvicorn on a loopback port inside the current event loop, for checks
  that need a real HTTP server (client disconnects, slow bodies, shutdown order);
- ``openapi``: the contract as ``/openapi.json`` and ``/docs`` publish it (``SentimentAPI``, the app to build);
- ``models``: which model a server loads (the built one, a folder, or the fake at a :class:`FakeCost`);
- ``process``: the app under uvicorn in a child process (:func:`served`), what tools and checks run;
- ``serve``: the command line of that server, ``python -m mlcourse.api.serve`` (``make serve``).
"""
