"""Drill d6: a resilient client for the sentiment API, and a bounded, resumable pipeline that scores a CSV."""
