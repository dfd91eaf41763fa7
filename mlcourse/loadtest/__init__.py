"""Load testing the d1 API: an open-loop generator, the server in a child process, measurement and reports.

- ``generator``: open-loop load at a fixed rate, latency counted from each request's scheduled
  send time (so a slow server cannot hide its queue: no coordinated omission);
- ``server``: start the API under uvicorn in its own process and stop it as a person would;
- ``measure``: one rate, batch sizes from ``/metrics``, a sweep for the sustainable rate;
- ``render``: the table, the plot and the report files;
- ``queue_depth``: the server's queue depth over time, sampled from ``/metrics`` during a run;
- ``target``: a stand-in server of known latency (one stall, a slow share, or a single-server queue);
- ``ceiling``: the generator's own ceiling, against the target answering at once;
- ``closed_loop``: a closed-loop client, kept to show coordinated omission (notebook 07) and to
  saturate a server for its capacity;
- ``efficiency``: capacity against the model's offline throughput, and the generator's ceiling, in one run;
- ``cli``: the command line, ``python -m mlcourse.loadtest``.
"""
