"""Load testing the d1 API: an open-loop generator, the server in a child process, measurement and reports.

- ``generator``: open-loop load at a fixed rate, latency counted from each request's scheduled
  send time (so a slow server cannot hide its queue: no coordinated omission);
- ``server``: start the API under uvicorn in its own process and stop it as a person would;
- ``measure``: one rate, batch sizes from ``/metrics``, a sweep for the sustainable rate;
- ``render``: the table, the plot and the report files;
- ``cli``: the command line, ``python -m mlcourse.loadtest``.
"""
