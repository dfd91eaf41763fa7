"""Shadows the optional ``rfc3987_syntax`` in Ray's own processes only (``cluster.start`` puts this folder on
their PYTHONPATH). jsonschema imports it when installed (Jupyter pulls it in) and it builds an Earley IRI
grammar at import: about 5 s of CPU in every Ray process, which made the raylet's agents miss its fixed
15 s start-up deadline on a busy 2-core box. Ray never checks IRI formats; jsonschema skips the check
when this import fails.
"""

raise ImportError("rfc3987_syntax is left out of Ray's processes (see config/ray_env)")
