"""Hostile input and failure injection for the d1 and d4 reference servers: ``make chaos``.

- ``bodies``: Hypothesis strategies for HTTP bodies a hostile client sends, and the property
  every answer of the d1 API must keep (the documented status, the JSON error body);
- ``frames``: Hypothesis strategies for bytes on d4's wire, and the properties of its decoder
  and its worker's answers;
- ``kills``: random SIGKILLs of the d4 worker with requests in flight, measured;
- ``cli``: the long runs (``python -m mlcourse.chaos``) and their report; ``tests/`` runs the
  same code with small counts.
"""
