"""The streamml prediction service: delayed labels, durable learning, Prometheus metrics.

`create_app(config)` builds the ASGI app; `run(host, port, data_dir, model, seed)` serves it
with uvicorn (what `streamml serve` calls).
"""

from __future__ import annotations

from .app import create_app, run
from .config import ServiceConfig
from .runtime import Runtime, ServiceError

__all__ = ["Runtime", "ServiceConfig", "ServiceError", "create_app", "run"]
