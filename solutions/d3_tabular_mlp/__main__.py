"""`python -m solutions.d3_tabular_mlp CSV --target COLUMN`: prep, train, print the JSON line."""

from mlcourse.drill_commands.d3_tabular_mlp import main

from .prep import prepare
from .train import train

raise SystemExit(main(__package__, prepare=prepare, train=train))
