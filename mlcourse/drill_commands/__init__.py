"""The command lines of the drills that have one, written once for the starter and the reference.

One module per drill, named after it. d3's and d5's have one shape: ``main(package, argv=None, **pieces)``,
called from the drill's ``__main__.py`` as ``main(__package__, ...)`` with the drill's own functions as
``pieces``; ``package`` names the command in its usage line and, where the command serves another drill,
whose code that is. d6's ``main`` is the learner's own work, so its module gives only the arguments
(``parse_args(argv, prog)``), the exit statuses and the probe that tells them apart.
"""
