"""Bearer token on the write endpoints (and on predictions when asked)."""

from __future__ import annotations

import pytest

LEARN = {"features": {"x": 1.0}, "labels": ["a"]}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2VjcmV0"}],
    ids=["none", "wrong", "not bearer"],
)
def test_learning_needs_the_token(start_service, headers):
    client = start_service(model="majority", token="s3cret")
    r = client.post("/v1/learn", json=LEARN, headers=headers)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert "token" in r.json()["detail"]
    r = client.post("/v1/learn/batch", json=[LEARN], headers=headers)
    assert r.status_code == 401
    assert client.get("/v1/model").json()["n_learned"] == 0

    ok = client.post("/v1/learn", json=LEARN, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 202
    # predictions, health and metrics stay open
    assert client.post("/v1/predict", json={"features": {"x": 1.0}}).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics", "/v1/model"):
        assert client.get(path).status_code == 200


def test_predictions_can_be_protected_too(start_service):
    client = start_service(model="majority", token="s3cret", protect_predict=True)
    auth = {"Authorization": "Bearer s3cret"}
    assert client.post("/v1/predict", json={"features": {"x": 1.0}}).status_code == 401
    assert client.post("/v1/predict/batch", json=[{"features": {"x": 1.0}}]).status_code == 401
    assert client.get("/v1/model").status_code == 401
    assert client.get("/v1/model", headers=auth).json()["pending_predictions"] == 0
    assert (
        client.post("/v1/predict", json={"features": {"x": 1.0}}, headers=auth).status_code == 200
    )
    assert client.get("/metrics").status_code == 200


def test_token_from_the_environment(monkeypatch, tmp_path):
    from service import ServiceConfig

    monkeypatch.setenv("STREAMML_TOKEN", "abc")
    monkeypatch.setenv("STREAMML_PROTECT_PREDICT", "yes")
    config = ServiceConfig.from_env(data_dir=tmp_path)
    assert config.token == "abc" and config.protect_predict
    monkeypatch.setenv("STREAMML_MAX_BATCH", "zero")
    with pytest.raises(ValueError, match="STREAMML_MAX_BATCH"):
        ServiceConfig.from_env(data_dir=tmp_path)
