"""Drill d4's port server, everything around the learner's code: its errors, its model, its benchmark.

- ``errors``: one exception class per outcome a caller can be told (shared by starter and solution);
- ``penguin_model``: the scikit-learn classifier the worker serves, saved as JSON, never pickled
  (``python -m mlcourse.port.penguin_model``);
- ``bench``: round trips per second through the process boundary and the cost of a restart
  (``python -m mlcourse.port.bench``).
"""
