"""Fuzzing from the OpenAPI schema (schemathesis): no input makes the service answer 5xx."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from service import ServiceConfig, create_app

from .helpers import toy_factory

#: Examples per operation and mode; STREAMML_FUZZ_EXAMPLES=1000 STREAMML_FUZZ_RANDOM=1 digs deeper.
EXAMPLES = int(os.environ.get("STREAMML_FUZZ_EXAMPLES", "40"))
#: A too large body is refused with 413, a legitimate answer to (negative) invalid data too.
REJECTION = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = {"checks": {"negative_data_rejection": {"expected-statuses": REJECTION}}}

OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app(ServiceConfig(data_dir="unused")).openapi()["paths"].items()
    for method in methods
]


@pytest.fixture
def api(tmp_path):
    config = ServiceConfig(
        data_dir=tmp_path / "data",
        model="toy",
        model_factory=toy_factory,
        max_batch=20,
        max_body_bytes=50_000,
    )
    app = create_app(config)
    fuzz_config = SchemathesisConfig.from_dict(CONFIG)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=fuzz_config)  # starts it
    deadline = time.monotonic() + 30
    while app.state.runtime.state != "ready":
        assert time.monotonic() < deadline, app.state.runtime.reason
        time.sleep(0.02)
    return schema, app


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method, path", OPERATIONS)
def test_no_input_makes_a_server_error(api, method, path, mode):
    if mode is GenerationMode.NEGATIVE and method == "GET":
        pytest.skip("no input to make invalid")  # the GET endpoints take no parameters
    schema, app = api
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("STREAMML_FUZZ_RANDOM"),
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate()

    fuzz()
    assert app.state.runtime.state == "ready"
