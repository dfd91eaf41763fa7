"""Drill d3: Polars prep and a 2-layer Flax NNX MLP on any CSV with a named target column."""
