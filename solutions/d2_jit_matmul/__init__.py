"""Drill d2: a jit-compiled matmul and an honest benchmark against a non-compiled reference."""
