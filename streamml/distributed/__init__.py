"""iHOMER on K shards: label clusters spread over Ray actors (`pip install "streamml[ray]"`).

Ray is imported only when a model starts its shards on Ray; `backend="local"` runs the same
shards in this process.
"""

from __future__ import annotations

from .backends import RAY_MISSING, ShardLost
from .model import ShardedIHOMER

__all__ = ["RAY_MISSING", "ShardLost", "ShardedIHOMER"]
