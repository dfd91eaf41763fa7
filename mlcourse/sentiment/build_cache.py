"""Build once: a stamp fingerprints what the model depends on, and a file lock serialises builds.

The set-up of ``make lab`` and ``make test`` runs the build on every call; the stamp makes a second
run a no-op, and the lock makes two concurrent ``make`` targets wait for one build.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from mlcourse.sentiment import DEFAULT_MODEL_DIR, data
from mlcourse.sentiment.finetune import BASE_PACKAGE, TrainConfig, base_model_dir

STAMP_FILE = "build_stamp.json"
#: The modules whose code shapes the model: a change to their code (not to its layout or comments) rebuilds it.
BUILD_MODULES = ("build.py", "build_cache.py", "finetune.py", "evaluate.py", "model_card.py", "data.py")


def fingerprint(config: TrainConfig) -> str:
    """Hash of everything the model depends on: build code, data preparation, corpus, base model, config."""
    digest = hashlib.sha256()
    for name in BUILD_MODULES:
        digest.update(ast.dump(ast.parse((Path(__file__).parent / name).read_text())).encode())
    digest.update(data.corpus_sha256().encode())
    digest.update(f"{BASE_PACKAGE}=={version(BASE_PACKAGE)}".encode())
    digest.update((base_model_dir() / "config.json").read_bytes())
    digest.update(repr(config).encode())
    return digest.hexdigest()


def is_built(model_dir: Path = DEFAULT_MODEL_DIR, config: TrainConfig = TrainConfig()) -> bool:
    """True when ``model_dir`` holds a complete build of the current code, data and config."""
    stamp = model_dir / STAMP_FILE
    if not stamp.is_file():
        return False
    try:
        return json.loads(stamp.read_text())["fingerprint"] == fingerprint(config)
    except (json.JSONDecodeError, KeyError):
        return False


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
