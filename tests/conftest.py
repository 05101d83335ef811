from __future__ import annotations

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The real benchmark streams of ../shared/data (slow tests only)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here")
    return SHARED_DATA


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray with 2 CPUs for the tests marked `ray` (it takes seconds to start)."""
    ray = pytest.importorskip(
        "ray", reason='the Ray tests need the ray extra: pip install "streamml[ray]"'
    )

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
