"""``python -m mlcourse.sentiment [--model ID_OR_PATH] TEXT...``: one JSON line per text.

Each line is ``{"text": ..., "label": "positive"|"negative", "score": p}``, in the
order the texts were given. Without ``--model`` the offline default model
(built by ``python -m mlcourse.sentiment.build``) is used.
"""

from __future__ import annotations

import argparse
import json
import sys

from mlcourse.sentiment import DEFAULT_MODEL_DIR, load_serving
from mlcourse.sentiment.loading import LabelMappingError, ModelLoadError, ModelNotBuiltError

BATCH_SIZE = 32  # texts per forward pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlcourse.sentiment", description="Classify texts as positive or negative."
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="texts to classify")
    parser.add_argument("--model", default=None, help=f"hub id or local folder (default: {DEFAULT_MODEL_DIR})")
    parser.add_argument("--num-threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    try:
        serving = load_serving(args.model, num_threads=args.num_threads)
    except (ModelNotBuiltError, ModelLoadError, LabelMappingError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for start in range(0, len(args.texts), BATCH_SIZE):
        batch = args.texts[start : start + BATCH_SIZE]
        for text, prediction in zip(batch, serving.predict_batch(batch), strict=True):
            print(json.dumps({"text": text, "label": prediction["label"], "score": round(prediction["score"], 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
