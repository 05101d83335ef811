"""Benchmarks of streamml against MOA, river and published results.

Run ``python -m benchmarks --help``. Every measured run is its own process with a time limit;
see ``run.py`` (the orchestration), ``peers.py`` (MOA and river), ``report.py`` (tables and
plots) and the studies ``scaling.py``, ``drift.py`` and ``batch_reference.py``.
"""

from __future__ import annotations

__all__: list[str] = []
