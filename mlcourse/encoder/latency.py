"""Forward latency per (batch, sequence) bucket for one backend at one thread count, in its own process.

    python -m mlcourse.encoder latency --backend jax|torch-f32|torch-int8 --threads 1 [--model PATH]

XLA reads its thread settings once at start-up, so every (backend, threads) pair runs in a fresh
process pinned to that many cores; the parent (``bench``) collects the JSON line it prints last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import partial

import numpy as np

from mlcourse.encoder.serving import DEFAULT_BATCH_SIZES as BATCHES
from mlcourse.encoder.serving import DEFAULT_BUCKETS as LENGTHS

BACKENDS = ("jax", "torch-f32", "torch-int8")


def pin_to_cores(num_threads: int) -> None:
    """Use only the first ``num_threads`` cores: a hard cap that both XLA and PyTorch respect."""
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(cores[:num_threads]))


def synthetic_inputs(batch: int, length: int, vocab_size: int, cls_id: int, sep_id: int) -> dict[str, np.ndarray]:
    """Every row a full-length text: ``[CLS]`` random WordPiece ids ``[SEP]``, no padding."""
    ids = np.random.default_rng(0).integers(1000, vocab_size, size=(batch, length), dtype=np.int32)
    ids[:, 0], ids[:, -1] = cls_id, sep_id
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def measure_backend(backend: str, model: str | None, repeats: int) -> dict:
    from mlcourse.encoder.parity import torch_logits
    from mlcourse.encoder.serving import load_jax_serving
    from mlcourse.timing import measure

    rows: list[dict] = []
    facts: dict = {}
    if backend == "jax":  # one serving holds every (batch, sequence) program, as the server's does
        serving = load_jax_serving(model, batch_sizes=BATCHES, buckets=LENGTHS)
        memory = serving.program_bytes()
        facts = {
            "device": str(serving.device),
            "load_s": round(serving.load_seconds, 2),
            "compile_s": {
                batch: {length: round(serving.compile_seconds[batch, length], 3) for length in LENGTHS}
                for batch in BATCHES
            },
            "program_mib": {batch: round(sum(memory[batch, n] for n in LENGTHS) / 2**20, 1) for batch in BATCHES},
        }
        tokenizer, vocab, run = serving.tokenizer, serving.config.vocab_size, serving.run
    else:
        from mlcourse.sentiment.serving import load_serving

        torch_serving = load_serving(model, int8=backend == "torch-int8")
        tokenizer = torch_serving.classifier.tokenizer
        vocab = torch_serving.classifier.model.config.vocab_size
        run = partial(torch_logits, torch_serving.classifier.model)
        facts = {"device": "cpu"}
    for batch in BATCHES:
        for length in LENGTHS:
            inputs = synthetic_inputs(batch, length, vocab, tokenizer.cls_token_id, tokenizer.sep_token_id)
            timing = measure(run, inputs, repeats=repeats, warmup=2)
            rows.append(
                {
                    "batch": batch,
                    "length": length,
                    "median_ms": round(timing.median_s * 1000, 2),
                    "min_ms": round(timing.min_s * 1000, 2),
                }
            )
    return {"rows": rows, **facts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.encoder latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default=None, help="folder or hub id (default: the built offline model)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    pin_to_cores(args.threads)
    if args.backend == "jax":
        from mlcourse.encoder.threads import limit_xla_threads

        limit_xla_threads(args.threads)
    else:
        import torch

        torch.set_num_threads(args.threads)
    result = measure_backend(args.backend, args.model, args.repeats)
    print(json.dumps({"backend": args.backend, "threads": args.threads, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
