"""``python -m <package> INPUT.csv --url URL --out OUT.csv``: see ``cli.py``."""

import sys

from .cli import main

sys.exit(main())
