"""Bad input gets a 4xx with a clear message, and changes neither the model nor the store."""

from __future__ import annotations

import json
import sqlite3

import pytest

from .helpers import drifting_stream, toy_factory

LIMITS = dict(max_body_bytes=4000, max_features=5, max_batch=3, max_labels=6)


def db_rows(data_dir) -> dict:
    rows = {}
    for name, tables in (
        ("streamml.db", ("events", "learned_ids", "meta")),
        ("pending.db", ["pending"]),
    ):
        with sqlite3.connect(data_dir / name) as db:
            for table in tables:
                rows[table] = db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    return rows


def big(n):
    return {f"f{i}": 1.0 for i in range(n)}


# (description, method, path, raw body or None for JSON, JSON body, headers, status, message)
CASES = [
    ("malformed JSON", "/v1/predict", '{"features": {"x": 1', None, 400, "malformed JSON"),
    ("empty body", "/v1/learn", "", None, 400, "empty request body"),
    ("JSON null", "/v1/predict", "null", None, 422, "valid dictionary"),
    ("features not an object", "/v1/predict", None, {"features": [1, 2]}, 422, "dictionary"),
    ("empty features", "/v1/predict", None, {"features": {}}, 422, "at least 1"),
    ("NaN", "/v1/predict", '{"features": {"x": NaN}}', None, 422, "not NaN or infinity"),
    ("Infinity", "/v1/learn", '{"features": {"x": Infinity}, "labels": []}', None, 422, "NaN"),
    ("overflow", "/v1/predict", '{"features": {"x": 1e999}}', None, 422, "not NaN"),
    ("huge integer", "/v1/predict", '{"features": {"x": ' + "9" * 400 + "}}", None, 422, "range"),
    (
        "lone surrogate label",
        "/v1/learn",
        '{"features": {"x": 1}, "labels": ["\\ud800"]}',
        None,
        422,
        "valid string",
    ),
    (
        "lone surrogate value",
        "/v1/predict",
        '{"features": {"x": "a\\udfff"}}',
        None,
        422,
        "valid string",
    ),
    (
        "lone surrogate name",
        "/v1/predict",
        '{"features": {"\\ud800": 1}}',
        None,
        422,
        "valid string",
    ),
    ("boolean feature", "/v1/predict", None, {"features": {"x": True}}, 422, "finite number"),
    ("null feature", "/v1/predict", None, {"features": {"x": None}}, 422, "finite number"),
    ("empty feature name", "/v1/predict", None, {"features": {"": 1.0}}, 422, "at least 1"),
    ("too many features", "/v1/predict", None, {"features": big(6)}, 422, "max_features=5"),
    ("unknown field", "/v1/predict", None, {"features": {"x": 1}, "f": 1}, 422, "Extra"),
    (
        "a column given twice",
        "/v1/predict",
        None,
        {"features": {"g": "g0", "g=g0": 1.0}},
        422,
        "column 'g=g0', which is also given as a number",
    ),
    (
        "a column given twice, learnt",
        "/v1/learn",
        None,
        {"features": {"g=g0": 2.0, "g": "g0"}, "labels": ["a"]},
        422,
        "column 'g=g0'",
    ),
    ("id not a string", "/v1/predict", None, {"features": {"x": 1}, "id": 5}, 422, "string"),
    ("id too long", "/v1/predict", None, {"features": {"x": 1}, "id": "i" * 300}, 422, "most"),
    ("unknown id", "/v1/learn", None, {"id": "nobody", "labels": ["a"]}, 404, "unknown id"),
    ("neither id nor features", "/v1/learn", None, {"labels": ["a"]}, 422, "give 'id'"),
    ("labels missing", "/v1/learn", None, {"features": {"x": 1}}, 422, "Field required"),
    ("labels not a list", "/v1/learn", None, {"features": {"x": 1}, "labels": "a"}, 422, "list"),
    ("label not a string", "/v1/learn", None, {"features": {"x": 1}, "labels": [1]}, 422, "str"),
    (
        "too many labels",
        "/v1/learn",
        None,
        {"features": {"x": 1}, "labels": list("abcdefg")},
        422,
        "max_labels=6",
    ),
    ("empty batch", "/v1/learn/batch", None, [], 422, "at least 1"),
    ("batch not a list", "/v1/predict/batch", None, {"features": {"x": 1}}, 422, "list"),
    ("too many items", "/v1/predict/batch", None, [{"features": {"x": 1}}] * 4, 422, "at most 3"),
    (
        "one bad item in a batch",
        "/v1/learn/batch",
        None,
        [{"features": {"x": 1}, "labels": ["a"]}, {"id": "nobody", "labels": ["b"]}],
        404,
        "nobody",
    ),
    (
        "conflicting duplicate",
        "/v1/learn",
        None,
        {"id": "known", "labels": ["b"]},
        409,
        "other labels",
    ),
    (
        "oversize body",
        "/v1/learn",
        None,
        {"features": {"x": 1}, "labels": ["a"] * 1000},
        413,
        "large",
    ),
]


@pytest.fixture
def service(start_service, tmp_path):
    client = start_service(tmp_path / "data", model="toy", model_factory=toy_factory, **LIMITS)
    items = [{"features": x, "labels": on} for x, on in drifting_stream(3, seed=2)]
    assert client.post("/v1/learn/batch", json=items).status_code == 202
    known = client.post("/v1/learn", json={"id": "known", "features": {"x": 1}, "labels": ["a"]})
    assert known.status_code == 202 and known.json()["event_id"] == 4, known.text
    out = client.post("/v1/predict", json={"id": "waiting", "features": {"g": "g0"}})
    assert out.status_code == 200 and out.json()["id"] == "waiting"
    state = client.get("/v1/model").json()
    assert state["n_learned"] == 4 and state["pending_predictions"] == 1, state
    return client, tmp_path / "data"


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_request_is_refused_and_changes_nothing(service, case):
    client, data_dir = service
    _, path, raw, body, status, message = case
    before_state, before_rows = client.get("/v1/model").json(), db_rows(data_dir)
    if raw is None:
        raw = json.dumps(body)
    r = client.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert message in json.dumps(r.json()["detail"])
    assert client.get("/v1/model").json() == before_state
    assert db_rows(data_dir) == before_rows


def test_wrong_content_type_and_unknown_routes(service):
    client, data_dir = service
    before = db_rows(data_dir)
    r = client.post("/v1/learn", content=b"labels=a", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/json" in r.json()["detail"]
    assert client.get("/v1/learn").status_code == 405
    assert client.post("/v1/nothing", json={}).status_code == 404
    assert db_rows(data_dir) == before


def test_bad_input_leaves_predictions_unchanged(service):
    client, _ = service
    probes = [{"features": x} for x, _ in drifting_stream(3, seed=11)]

    def predict():
        return [p["probabilities"] for p in client.post("/v1/predict/batch", json=probes).json()]

    before = predict()
    for _, path, raw, body, _, _ in CASES:
        raw = json.dumps(body) if raw is None else raw
        client.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})
    assert predict() == before
