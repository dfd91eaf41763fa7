"""Drill d5, the backpressure proof: reference solution."""
