"""`python -m solutions.d3_tabular_mlp CSV --target COLUMN`: prep, train, print the JSON line."""

from mlcourse.tabular.cli import main

from .prep import prepare
from .train import train

raise SystemExit(main(prepare, train, prog=f"python -m {__package__}"))
