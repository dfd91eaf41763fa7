"""d3_tabular_mlp, reference: Polars prep + a 2-layer Flax NNX MLP on any CSV with a named target."""
