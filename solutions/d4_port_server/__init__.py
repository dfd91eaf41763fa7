"""Drill d4: a scikit-learn model served by a supervised child process behind a length-prefixed protocol."""
