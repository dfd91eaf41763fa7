"""Drill d2's matrix product, everything but the learner's code.

- ``report``: the benchmark's Markdown, JSON and plot (``python -m mlcourse.matmul.report``).
- ``reference``: the course's own non-BLAS product, the fixed yardstick of d2's speed-up check.
"""
