"""Compile ``course_predictor.proto`` with grpcio-tools, and import the generated modules.

    python -m mlcourse.pipeline.protos      # run by `make setup`

The generated ``*_pb2.py`` files go to ``mlcourse/pipeline/generated/`` (ignored by git): stubs
are never written by hand nor committed, so they cannot drift from the ``.proto``. ``load()``
compiles them again when they are missing or older than the ``.proto`` (a fresh clone, a ``.proto``
edited in a lesson).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

PROTO = Path(__file__).with_name("course_predictor.proto")
GENERATED = Path(__file__).with_name("generated")
MODULE = PROTO.stem + "_pb2"


def compile_proto() -> list[Path]:
    """Run protoc (from grpcio-tools) on the .proto; returns the generated files."""
    from grpc_tools import protoc

    GENERATED.mkdir(exist_ok=True)
    include = Path(protoc.__file__).with_name("_proto")  # the well-known types shipped with grpcio-tools
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO.parent}",
            f"-I{include}",
            f"--python_out={GENERATED}",
            f"--grpc_python_out={GENERATED}",
            str(PROTO),
        ]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed on {PROTO} (status {status})")
    return [GENERATED / f"{MODULE}.py", GENERATED / f"{MODULE}_grpc.py"]


def load() -> tuple[ModuleType, ModuleType]:
    """``(messages, services)``: the generated ``course_predictor_pb2`` and ``course_predictor_pb2_grpc``."""
    generated = [GENERATED / f"{MODULE}.py", GENERATED / f"{MODULE}_grpc.py"]
    if not all(path.exists() and path.stat().st_mtime >= PROTO.stat().st_mtime for path in generated):
        compile_proto()
    if str(GENERATED) not in sys.path:
        sys.path.insert(0, str(GENERATED))  # the generated _grpc module imports its _pb2 by its bare name
    return importlib.import_module(MODULE), importlib.import_module(f"{MODULE}_grpc")


if __name__ == "__main__":
    print("generated:", ", ".join(str(path) for path in compile_proto()))
