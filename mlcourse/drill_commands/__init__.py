"""The command lines of the drills that have one, written once for the starter and the reference.

Each has one shape: ``main(package, argv=None, **pieces)``, called from the drill's ``__main__.py`` as
``main(__package__, ...)`` with the drill's own functions as ``pieces``; ``package`` names the
command in its usage line and, where the command serves another drill, whose code that is.
"""
