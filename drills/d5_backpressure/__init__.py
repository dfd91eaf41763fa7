"""Drill d5, the backpressure proof: your code (see README.md)."""
