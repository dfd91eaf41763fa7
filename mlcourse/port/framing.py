"""Drill d4's wire format, its constants written once: the starter, the reference, the checks and chaos use them.

A frame is a 4-byte unsigned big-endian length N (:data:`HEADER`), then N payload bytes. The
payload's first byte is the protocol version (:data:`PROTOCOL_VERSION`); the rest is one msgpack
map. No payload is longer than :data:`MAX_FRAME_BYTES`. Encoding and decoding frames is the
drill's own work (``protocol.py``); this module only fixes the numbers both sides agree on.
"""

from __future__ import annotations

import struct

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 1 << 20  # 1 MiB: far above any request this model needs, far below a memory problem
HEADER = struct.Struct(">I")
