"""``python -m mlcourse.encoder parity|bench|latency ...``: see each module's docstring."""

from __future__ import annotations

import argparse
import json
import sys


def parity(argv: list[str]) -> int:
    from mlcourse.encoder.config import EncoderLoadError, UnknownArchitectureError
    from mlcourse.encoder.parity import HELD_OUT_TEXTS, PARITY_TOLERANCE, held_out_texts, run_parity

    parser = argparse.ArgumentParser(
        prog="python -m mlcourse.encoder parity",
        description="Flax NNX logits and labels against PyTorch's on held-out tweets.",
    )
    parser.add_argument("--model", default=None, help="folder or hub id (default: the built offline model)")
    parser.add_argument("--texts", type=int, default=HELD_OUT_TEXTS, help="how many held-out tweets")
    args = parser.parse_args(argv)
    try:
        result = run_parity(args.model, held_out_texts(args.texts), progress=True)
    except (EncoderLoadError, UnknownArchitectureError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"model: {result.model} ({result.family})")
    print(
        f"max |logit difference| over {result.texts} texts, padding included: {result.max_abs_logit_diff:.2e} "
        f"(tolerance {PARITY_TOLERANCE:.0e})"
    )
    print(f"identical labels: {result.label_agreement:.1%}")
    print(json.dumps(result.as_dict()))
    return 0 if result.within_tolerance else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in {"parity", "bench", "latency"}:
        print(
            "usage: python -m mlcourse.encoder parity|bench|latency [options] (--help after a command)", file=sys.stderr
        )
        return 2
    command, rest = argv[0], argv[1:]
    if command == "bench":
        from mlcourse.encoder.bench import main as bench

        return bench(rest)
    if command == "latency":
        from mlcourse.encoder.latency import main as latency

        return latency(rest)
    return parity(rest)


if __name__ == "__main__":
    sys.exit(main())
