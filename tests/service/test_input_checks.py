"""The token is checked before the body; labels with NUL characters are refused; odd model
answers become probabilities, a model's error a 422 and a shard it cannot restore a 503."""

from __future__ import annotations

import math

import pytest
from river import base

from streamml.distributed import ShardLost

from .test_bad_input import db_rows

AUTH = {"Authorization": "Bearer s3cret"}
JSON = {"Content-Type": "application/json"}

# (description, path, raw body, headers, status once authorised)
BODIES = [
    ("malformed JSON", "/v1/learn", b'{"labels": [', JSON, 400),
    ("empty body", "/v1/learn/batch", b"", JSON, 400),
    ("not JSON", "/v1/learn", b"labels=a", {"Content-Type": "text/plain"}, 415),
    ("too large", "/v1/learn", b"[" + b" " * 5000 + b"]", JSON, 413),
    ("invalid fields", "/v1/learn", b'{"labels": 3}', JSON, 422),
]


@pytest.mark.parametrize(("what", "path", "body", "headers", "status"), BODIES)
def test_the_token_is_checked_before_the_body(start_service, what, path, body, headers, status):
    client = start_service(model="majority", token="s3cret", max_body_bytes=4000)
    for auth in ({}, {"Authorization": "Bearer wrong"}):
        r = client.post(path, content=body, headers={**headers, **auth})
        assert r.status_code == 401, (what, r.text)
        assert r.headers["WWW-Authenticate"] == "Bearer" and "token" in r.json()["detail"]
    r = client.post(path, content=body, headers={**headers, **AUTH})
    assert r.status_code == status, (what, r.text)


def test_protected_predictions_check_the_token_first_too(start_service):
    client = start_service(model="majority", token="s3cret", protect_predict=True)
    assert client.post("/v1/predict", content=b"{", headers=JSON).status_code == 401
    assert client.post("/v1/predict", content=b"{", headers={**JSON, **AUTH}).status_code == 400
    # unprotected, predictions validate their body as before
    open_client = start_service(
        model="majority", data_dir=client.app.state.config.data_dir.parent / "o", token="s3cret"
    )
    assert open_client.post("/v1/predict", content=b"{", headers=JSON).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"features": {"x": 1.0}, "labels": ["a\u0000b"]},
        {"features": {"x": 1.0}, "labels": ["ok", "\u0000"]},
    ],
)
def test_labels_with_nul_characters_are_refused(start_service, tmp_path, body):
    client = start_service(model="majority")
    client.post("/v1/predict", json={"id": "p", "features": {"x": 1.0}})
    before = db_rows(tmp_path / "data")
    r = client.post("/v1/learn", json=body)
    assert r.status_code == 422 and "NUL" in r.text
    r = client.post("/v1/learn/batch", json=[{"features": {"x": 2.0}, "labels": ["b"]}, body])
    assert r.status_code == 422 and "NUL" in r.text
    r = client.post("/v1/learn", json={"id": "p", "labels": body["labels"]})
    assert r.status_code == 422
    assert db_rows(tmp_path / "data") == before
    assert client.get("/v1/model").json()["n_learned"] == 0
    assert client.post("/v1/learn", json={"id": "p", "labels": ["a b"]}).status_code == 202


class OddAnswers(base.MultiLabelClassifier):
    """Probabilities as dicts without True, bare numbers, None and NaN; fails on feature "bad"."""

    def learn_one(self, x, y):
        pass

    def predict_proba_one(self, x):
        if "bad" in x:
            raise KeyError("bad")
        return {
            "dict": {True: 0.25, False: 0.75},
            "no_true": {False: 1.0},
            "bare": 0.5,
            "none": None,
            "nan": {True: math.nan},
        }

    def predict_one(self, x):
        return {"dict": False, "no_true": False, "bare": True, "none": False, "nan": False}


def test_model_answers_become_probabilities_and_its_errors_a_422(start_service, tmp_path):
    client = start_service(model="odd", model_factory=OddAnswers)
    out = client.post("/v1/predict", json={"id": "p", "features": {"x": 1.0}})
    assert out.status_code == 200, out.text
    assert out.json()["labels"] == ["bare"]
    assert out.json()["probabilities"] == {
        "dict": 0.25,
        "no_true": 0.0,
        "bare": 0.5,
        "none": 0.0,
        "nan": 0.0,
    }
    before = db_rows(tmp_path / "data")
    refused = client.post("/v1/predict", json={"id": "q", "features": {"bad": 1.0}})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "the model cannot use these features: 'bad'"
    assert db_rows(tmp_path / "data") == before


class LostShards(OddAnswers):
    """A sharded model whose shards die on feature "lost", even after a restore."""

    def predict_proba_one(self, x):
        if "lost" in x:
            raise ShardLost("shard 1 died")
        return super().predict_proba_one(x)


def test_a_shard_that_cannot_be_restored_is_a_503_and_stores_nothing(start_service, tmp_path):
    client = start_service(model="lost", model_factory=LostShards)
    assert client.post("/v1/predict", json={"id": "p", "features": {"x": 1.0}}).status_code == 200
    before = db_rows(tmp_path / "data")
    out = client.post(
        "/v1/predict/batch",
        json=[{"id": "q", "features": {"x": 1.0}}, {"id": "r", "features": {"lost": 1.0}}],
    )
    assert out.status_code == 503
    assert out.json()["detail"] == "the model lost a shard and cannot restore it: shard 1 died"
    assert db_rows(tmp_path / "data") == before
