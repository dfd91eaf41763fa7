"""Where things live in the repository, so no module guesses relative paths.

``BUILD_DIR`` is where every tool and check writes (reports, server logs, grades). It is the
course's ``build/`` unless ``MLCOURSE_BUILD_DIR`` names another folder: class grading points it
at a writable folder per run, since its sandbox mounts the course copy read-only. It is read when
this module is first imported, so a child process started with the variable set writes there too.
"""

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
MODELS_DIR = DATA_DIR / "models"  # built artefacts, ignored by git
BUILD_DIR_ENV = "MLCOURSE_BUILD_DIR"
BUILD_DIR = Path(os.environ.get(BUILD_DIR_ENV) or REPO_ROOT / "build").resolve()  # ignored by git
PENGUINS_CSV = DATA_DIR / "penguins.csv"


def install_stamp() -> str:
    """The Makefile's install stamp, ``.venv/.installed-<cksum>``: ``make -o`` it to keep a test's make from reinstalling."""
    data = b"".join((REPO_ROOT / name).read_bytes() for name in ("requirements.txt", "pyproject.toml"))
    checksum = subprocess.run(["cksum"], input=data, capture_output=True, check=True).stdout.split()[0].decode()
    return f".venv/.installed-{checksum}"
