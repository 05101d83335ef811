from __future__ import annotations

import contextlib
import warnings

import pytest

pytest.register_assert_rewrite("tests.service.dashboard", "tests.service.prom")

from service import ServiceConfig, create_app  # noqa: E402

from .helpers import wait_ready  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx
    from fastapi.testclient import TestClient


@pytest.fixture
def start_service(tmp_path):
    """Start a service in-process on a data directory; returns a ready TestClient.

    Call it again with the same `data_dir` after `stop()`-ing the previous client (leaving its
    `with` block) to restart. Every client still open is closed at teardown.
    """
    stack = contextlib.ExitStack()

    def start(data_dir=None, **options):
        config = ServiceConfig(data_dir=data_dir or tmp_path / "data", **options)
        client = TestClient(create_app(config))
        client.__enter__()
        stack.callback(_close, client)
        wait_ready(client)
        return client

    with stack:
        yield start


def _close(client):
    with contextlib.suppress(RuntimeError):
        client.__exit__(None, None, None)
