"""Where things live in the repository, so no module guesses relative paths."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
MODELS_DIR = DATA_DIR / "models"  # built artefacts, ignored by git
BUILD_DIR = REPO_ROOT / "build"  # reports and grades, ignored by git
PENGUINS_CSV = DATA_DIR / "penguins.csv"
