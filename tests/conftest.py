from __future__ import annotations

import os
import pathlib
import typing

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
#: With STREAMML_REQUIRE_DATA=1 (set by CI), a slow test whose ../shared material is missing
#: fails instead of being skipped.
REQUIRE_DATA = os.environ.get("STREAMML_REQUIRE_DATA") == "1"
SEED = pytest.StashKey[int]()


def missing_shared(path: pathlib.Path, module: bool = False) -> typing.NoReturn:
    """Skip (or, with STREAMML_REQUIRE_DATA=1, fail) a test that needs `path` from ../shared."""
    message = f"{path} is not here"
    if REQUIRE_DATA:
        pytest.fail(
            f"{message}: STREAMML_REQUIRE_DATA=1 needs ../shared next to the clone", pytrace=False
        )
    pytest.skip(message, allow_module_level=module)


def pytest_addoption(parser):
    parser.addoption(
        "--durability-seed",
        type=int,
        default=None,
        help="seed of the kill points of the durability tests (default: "
        "$STREAMML_DURABILITY_SEED, else a random one, printed in the header)",
    )


def pytest_configure(config):
    seed = config.getoption("--durability-seed", default=None)
    if seed is None:
        text = os.environ.get("STREAMML_DURABILITY_SEED", "")
        seed = int(text) if text else int.from_bytes(os.urandom(4)) % 1_000_000
    config.stash[SEED] = seed


def pytest_report_header(config):
    seed = config.stash[SEED]
    return f"durability seed: {seed} (rerun with --durability-seed {seed})"


@pytest.fixture
def durability_seed(request) -> int:
    """The seed of the durability tests' random choices (printed, and given again to rerun)."""
    seed = request.config.stash[SEED]
    print(f"durability seed: {seed}; rerun: pytest --durability-seed {seed} {request.node.nodeid}")
    return seed


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The real benchmark streams of ../shared/data (slow tests only)."""
    if not SHARED_DATA.is_dir():
        missing_shared(SHARED_DATA)
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
