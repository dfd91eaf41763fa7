"""Drill d3's tabular work, everything but the learner's prep and training.

- ``contract``: typed errors, the identifier rule, the records prep and training hand over, the
  prepared-output writer (the d3 command line itself is ``mlcourse.drill_commands.d3_tabular_mlp``);
- ``data``: synthetic CSVs generated at run time (too big, or too unlike penguins, to commit);
- ``memory``: peak memory of a Polars query, measured in a fresh child process;
- ``plot``: training curves.
"""
