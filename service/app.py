"""The HTTP API: routes and validation errors (the token and body checks in front of them are
`guard.py`); `create_app`, and `run` (which binds the port before it opens the data directory)."""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import sys
import typing

from fastapi import Body, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from . import schemas
from .config import ServiceConfig
from .guard import RequestGuard, error_response, json_response, token_matches
from .metrics import RequestMetrics, ServiceMetrics
from .runtime import LearnItem, Runtime, ServiceError

__all__ = ["create_app", "run"]

DESCRIPTION = """
Online multi-label predictions with delayed labels and durable learning.

* `POST /v1/predict` answers at once and keeps the features under an id;
* `POST /v1/learn` brings the labels later (with that id), or a whole instance (with
  `features`); it answers once the event is durable in the log, and the model has learned it;
* `GET /v1/model` shows the model, its label clusters and its recent drift events;
* `GET /metrics` exports Prometheus metrics (drift, clusters, online quality, latency).

When the service has a token (`STREAMML_TOKEN`), the learn endpoints need the header
`Authorization: Bearer <token>` (and the predict endpoints too with
`STREAMML_PROTECT_PREDICT=1`).
"""

_ERRORS: dict[int | str, dict[str, typing.Any]] = {
    400: {"model": schemas.ErrorOut, "description": "Malformed JSON or empty body."},
    401: {"model": schemas.ErrorOut, "description": "Missing or wrong bearer token."},
    413: {"model": schemas.ErrorOut, "description": "Body or batch too large."},
    415: {"model": schemas.ErrorOut, "description": "Body is not JSON."},
    422: {"model": schemas.ErrorOut, "description": "Invalid fields, or over a limit."},
    503: {
        "model": schemas.ErrorOut,
        "description": "Not ready (loading), shutting down, or low on disk space.",
    },
}
_PREDICT_ERRORS = {**_ERRORS, 409: {"model": schemas.ErrorOut, "description": "Id conflict."}}
_LEARN_ERRORS = {
    **_PREDICT_ERRORS,
    404: {"model": schemas.ErrorOut, "description": "No prediction waiting under this id."},
}


def _annotate(**annotations):
    """Set annotations that depend on the app's settings (they cannot be module-level names)."""

    def set_annotations(function):
        function.__annotations__.update(annotations)
        return function

    return set_annotations


#: The branches of a feature value (number or string) in pydantic's error locations.
_BRANCHES = {"float": float, "constrained-str": str, "str": str}


def _readable(errors: list[dict]) -> list[dict]:
    """Validation errors as {loc, msg, type}, one per invalid feature value (not per branch)."""
    out, seen = [], set()
    for e in errors:
        loc, msg, kind = tuple(e.get("loc", ())), str(e.get("msg", "")), str(e.get("type"))
        if len(loc) > 1 and loc[-1] in _BRANCHES:
            value = e.get("input")
            loc = loc[:-1]
            if loc in seen:
                continue
            if isinstance(value, str) and _BRANCHES[e["loc"][-1]] is float:
                continue  # the string branch's error says what is wrong with a string
            if not isinstance(value, str):
                msg = "a feature value is a finite number or a string"
                if kind == "finite_number" or isinstance(value, float):
                    msg += " (not NaN or infinity)"
                elif isinstance(value, int) and not isinstance(value, bool):
                    msg += " (this number is out of range)"
                kind = "feature_value"
        if kind == "string_pattern_mismatch":  # the only pattern: no NUL in a label
            msg = "a label must not contain NUL characters (\\u0000)"
        seen.add(loc)
        out.append({"loc": _loc(loc), "msg": msg, "type": kind})
    return out


def _loc(loc) -> list:
    return [part if isinstance(part, str | int) else str(part) for part in loc]


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The service's ASGI app, with its own model runtime and metrics registry.

    The model is loaded (snapshot, then replay of the log) in the background when the app
    starts (ASGI lifespan); `/readyz` answers 200 once it is done.

    Parameters
    ----------
    config
        The settings; by default from the `STREAMML_*` environment variables.

    """
    config = config or ServiceConfig.from_env()
    registry = CollectorRegistry(auto_describe=True)
    metrics = ServiceMetrics(registry)
    runtime = Runtime(config, observer=metrics)
    metrics.watch(runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    import streamml

    app = FastAPI(
        title="streamml prediction service",
        version=streamml.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.runtime = runtime
    app.state.metrics = metrics
    app.state.registry = registry

    bearer = HTTPBearer(auto_error=False, description="The service's token (STREAMML_TOKEN).")

    async def check_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        given = credentials.credentials if credentials is not None else ""
        if not token_matches(given, config.token):
            raise ServiceError(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    # Only the protected routes declare (and check) the bearer token; `RequestGuard` checks it
    # first, before the body is read or validated.
    write = [Depends(check_token)] if config.token else []
    read = [Depends(check_token)] if config.token and config.protect_predict else []
    protected = {"/v1/learn", "/v1/learn/batch"}
    if config.protect_predict:
        protected |= {"/v1/predict", "/v1/predict/batch", "/v1/model"}
    batch_body = Body(min_length=1, max_length=config.max_batch)  # in the schema too

    @app.exception_handler(ServiceError)
    async def serviceerror_response(request: Request, error: ServiceError):
        return error_response(error.status, error.message, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        errors = error.errors()
        for e in errors:
            if e.get("type") == "json_invalid":
                reason = (e.get("ctx") or {}).get("error", "")
                return error_response(400, f"malformed JSON: {reason}".rstrip(": "))
            if e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",):
                return error_response(400, "empty request body: send a JSON document")
        return error_response(422, _readable(errors))

    @app.post(
        "/v1/predict",
        response_model=schemas.PredictOut,
        responses=_PREDICT_ERRORS,
        dependencies=read,
        tags=["predictions"],
        summary="Predict one instance",
    )
    async def predict(body: schemas.PredictIn):
        """Predict the labels of an instance now; its features wait under `id` for its labels."""
        [out] = await runtime.predict([(body.features, body.id)])
        return json_response(out)

    @app.post(
        "/v1/predict/batch",
        response_model=list[schemas.PredictOut],
        responses=_PREDICT_ERRORS,
        dependencies=read,
        tags=["predictions"],
        summary="Predict several instances",
    )
    @_annotate(body=typing.Annotated[list[schemas.PredictIn], batch_body])
    async def predict_batch(body):
        """A list of instances in, the list of their predictions out (same order)."""
        return json_response(await runtime.predict([(item.features, item.id) for item in body]))

    @app.post(
        "/v1/learn",
        status_code=202,
        response_model=schemas.LearnOut,
        responses={**_LEARN_ERRORS, 200: {"model": schemas.LearnOut, "description": "Duplicate."}},
        dependencies=write,
        tags=["learning"],
        summary="Learn one instance",
    )
    async def learn(body: schemas.LearnIn):
        """Labels for an earlier prediction (`id`), or an instance to learn (`features`).

        Answers 202 once the event is durable and learned, 200 for a duplicate (this id was
        already learned with these labels).
        """
        [out] = await runtime.learn([LearnItem(body.labels, body.id, body.features)])
        return json_response(out, 200 if out["duplicate"] else 202)

    @app.post(
        "/v1/learn/batch",
        status_code=202,
        response_model=list[schemas.LearnOut],
        responses={**_LEARN_ERRORS, 200: {"description": "Only duplicates."}},
        dependencies=write,
        tags=["learning"],
        summary="Learn several instances",
    )
    @_annotate(body=typing.Annotated[list[schemas.LearnIn], batch_body])
    async def learn_batch(body):
        """A list of learn items in (all accepted or none), their acknowledgements out."""
        outs = await runtime.learn([LearnItem(i.labels, i.id, i.features) for i in body])
        return json_response(outs, 202 if any(not o["duplicate"] for o in outs) else 200)

    @app.get(
        "/v1/model",
        response_model=schemas.ModelOut,
        responses={401: _ERRORS[401], 503: _ERRORS[503]},
        dependencies=read,
        tags=["model"],
        summary="The model's state",
    )
    async def model():
        """Model kind, instances learned, label clusters and recent drift events."""
        return json_response(runtime.describe())

    @app.get("/healthz", response_model=schemas.StatusOut, tags=["operations"])
    async def healthz():
        """200 while the process is alive."""
        return json_response({"status": "ok", "reason": None})

    @app.get(
        "/readyz",
        response_model=schemas.StatusOut,
        responses={503: {"model": schemas.StatusOut, "description": "Not ready."}},
        tags=["operations"],
    )
    async def readyz():
        """200 when the model is loaded and the store writable, else 503 with the reason."""
        ok, reason = await runtime.readiness()
        return json_response(
            {"status": "ready" if ok else "not ready", "reason": reason}, 200 if ok else 503
        )

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
        tags=["operations"],
    )
    async def prometheus_metrics():
        """The Prometheus metrics (text exposition format)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(
        RequestGuard,
        max_bytes=config.max_body_bytes,
        token=config.token,
        protected=frozenset(protected),
    )
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (an `OSError` with a one-line message if it cannot be)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: str = "streamml-data",
    model: str | None = None,
    seed: int = 42,
    *,
    log_level: str = "info",
    **options,
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down cleanly with a final snapshot).

    Parameters
    ----------
    host
        Address to bind.
    port
        Port to bind.
    data_dir
        Data directory (log and snapshots).
    model
        Model name for a new data directory (default: `ihomer` if available, else `majority`).
    seed
        Seed of a new model.
    log_level
        uvicorn's log level.
    options
        Any other `ServiceConfig` field; unset ones come from `STREAMML_*` variables.

    """
    import uvicorn

    config = ServiceConfig.from_env(data_dir=data_dir, model=model, seed=seed, **options)
    streamml_log = logging.getLogger("streamml")
    if not streamml_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        streamml_log.addHandler(handler)
        streamml_log.setLevel(log_level.upper())
    app = create_app(config)
    # The port first, so that a port in use fails before the data directory is touched.
    sock = listen(host, port)
    try:
        app.state.runtime.open()  # a locked data directory or unknown model fails here, clearly
    except BaseException:
        sock.close()
        raise
    # The event loop shares the interpreter with the store's writer threads: let it take the
    # interpreter back sooner than the default 5 ms, for the latency of predictions.
    sys.setswitchinterval(0.001)
    # A full garbage collection walks every tracked object: with the libraries loaded, about
    # 120,000 of them, which stalled every request for 50-75 ms now and then. The objects alive
    # now (modules, classes, functions) live as long as the process: leave them out of it.
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=30,
        )
    )
    address = f"[{host}]" if ":" in host else host
    streamml_log.info("listening on http://%s:%d (Ctrl+C to quit)", address, sock.getsockname()[1])
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # already shut down cleanly
        pass
    finally:
        sock.close()
