"""Drill d1, the sentiment API: batching, backpressure and readiness around a Transformers model."""
