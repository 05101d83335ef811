"""The request handlers against a committer whose batches commit when the test says: an answer
is only sent once what it depends on is committed, retries included."""

from __future__ import annotations

import asyncio

import pytest

from service import ServiceConfig
from service.errors import ServiceError
from service.handlers import LearnItem, Requests
from service.store import Pending, labels_digest


class HeldCommitter:
    """Stages writes like `Committer`; a batch is committed when `commit(seq)` is called."""

    failure = None

    def __init__(self):
        self.commits: dict[int, asyncio.Event] = {}
        self.pendings, self.learned_ids, self.events = {}, {}, []

    def _new(self) -> int:
        seq = len(self.commits) + 1
        self.commits[seq] = asyncio.Event()
        return seq

    def put(self, pendings) -> int:
        seq = self._new()
        for p in pendings:
            self.pendings[p.id] = (p, seq)
        return seq

    def stage(self, ops, events=(), consumed=()) -> int:
        seq = self._new()
        assert [op[1] for op in ops] == list(events)
        for event in events:
            self.events.append(event)
            if event.key is not None:
                self.learned_ids[event.key] = ((event.id, labels_digest(event.labels)), seq)
        for key in consumed:
            del self.pendings[key]
        return seq

    def pending(self, id_, now):
        return self.pendings.get(id_, (None, None))

    def learned(self, key):
        return self.learned_ids.get(key, (None, None))

    async def wait(self, seq: int) -> None:
        await self.commits[seq].wait()

    def commit(self, seq: int) -> None:
        self.commits[seq].set()


class Constant:
    """Predicts label "x" with probability 0.75, whatever the features."""

    def predict_proba_one(self, x):
        return {"x": 0.75}

    def predict_one(self, x):
        return {"x": True}


class Handlers(Requests):
    def __init__(self, tmp_path):
        self.config = ServiceConfig(data_dir=tmp_path)
        self.committer = HeldCommitter()
        self.state, self.reason, self._closing = "ready", "", False
        self.disk = type("Disk", (), {"check": lambda self: None})()
        self.observer = type("Observer", (), {"on_predictions": lambda self, n: None})()
        self.model = Constant()
        self.predictions_in_flight = 0
        self.next_event_id = 1
        self._known_labels = set()

    def use_model(self, call):
        return call(self.model)


async def _started(coroutine) -> asyncio.Task:
    """A task run until it waits (for a commit)."""
    task = asyncio.create_task(coroutine)
    for _ in range(3):
        await asyncio.sleep(0)
    return task


def test_predictions_and_their_retries_are_answered_once_committed(tmp_path):
    async def scenario():
        r = Handlers(tmp_path)
        first = await _started(r.predict([({"f": 1.0}, "a")]))
        retry = await _started(r.predict([({"f": 1.0}, "a")]))
        other = await _started(r.predict([({"f": 2.0}, "b")]))
        assert r.predictions_in_flight == 3
        r.committer.commit(2)  # b's prediction (the retry of a writes nothing)
        assert (await other)[0]["id"] == "b"
        assert r.predictions_in_flight == 2
        await asyncio.sleep(0.01)
        assert not first.done() and not retry.done()  # a's prediction is not committed yet
        r.committer.commit(1)
        answers = await first, await retry
        assert (
            answers[0] == answers[1] == [{"id": "a", "labels": ["x"], "probabilities": {"x": 0.75}}]
        )
        assert r.predictions_in_flight == 0

    asyncio.run(scenario())


def test_learn_retries_are_acknowledged_once_committed(tmp_path):
    async def scenario():
        r = Handlers(tmp_path)
        first = await _started(r.learn([LearnItem(["x"], "k", {"f": 1.0})]))
        retry = await _started(r.learn([LearnItem(["x"], "k", {"f": 1.0})]))
        await asyncio.sleep(0.01)
        assert not first.done() and not retry.done()
        r.committer.commit(1)
        assert await first == [{"id": "k", "event_id": 1, "duplicate": False, "scored": False}]
        assert await retry == [{"id": "k", "event_id": 1, "duplicate": True, "scored": False}]

    asyncio.run(scenario())


def test_a_label_learns_the_features_of_its_prediction_unless_given_others(tmp_path):
    async def scenario():
        r = Handlers(tmp_path)
        for id_, features in (("p", {"f": 1.0}), ("q", {"f": 2.0})):
            r.committer.commit(r.committer.put([Pending(id_, features, ["x"], {"x": 0.75}, 1e12)]))
        task = await _started(r.learn([LearnItem(["x"], "p"), LearnItem(["y"], "q", {"g": 5.0})]))
        r.committer.commit(len(r.committer.commits))
        await task
        return r.committer.events

    p, q = asyncio.run(scenario())
    assert (p.features, p.labels, p.predicted) == ({"f": 1.0}, ["x"], ["x"])
    assert (q.features, q.labels, q.predicted) == ({"g": 5.0}, ["y"], ["x"])


def test_a_duplicate_in_a_batch_does_not_stop_the_items_after_it(tmp_path):
    async def scenario():
        r = Handlers(tmp_path)
        done = await _started(r.learn([LearnItem(["x"], "k", {"f": 1.0})]))
        r.committer.commit(1)
        await done
        batch = await _started(
            r.learn([LearnItem(["x"], "k", {"f": 1.0}), LearnItem(["y"], "m", {"f": 2.0})])
        )
        r.committer.commit(2)
        return await batch, r.committer.events

    outcomes, events = asyncio.run(scenario())
    assert [(o["id"], o["event_id"], o["duplicate"]) for o in outcomes] == [
        ("k", 1, True),
        ("m", 2, False),
    ]
    assert [(e.id, e.key) for e in events] == [(1, "k"), (2, "m")]


def test_labels_for_no_waiting_prediction_are_a_404(tmp_path):
    r = Handlers(tmp_path)
    with pytest.raises(ServiceError) as error:
        asyncio.run(r.learn([LearnItem(["x"], "gone")]))
    assert error.value.status == 404
    assert error.value.message == (
        "unknown id 'gone': no prediction is waiting for labels under it "
        "(never made, expired or evicted, or already learned)"
    )
    assert r.committer.events == [] and r.next_event_id == 1


def _refused(coroutine) -> ServiceError:
    """The error of a request (which, accepted, would wait for a commit that never comes)."""
    with pytest.raises(ServiceError) as error:
        asyncio.run(asyncio.wait_for(coroutine, 5.0))
    return error.value


def test_a_service_not_ready_refuses_with_a_503_and_when_to_retry(tmp_path):
    r = Handlers(tmp_path)
    r.state, r.reason = "loading", "replaying the log"
    for call in (r.predict([({"f": 1.0}, None)]), r.learn([LearnItem(["x"], None, {"f": 1.0})])):
        error = _refused(call)
        assert (error.status, error.message) == (503, "not ready: replaying the log")
        assert error.headers == {"Retry-After": "1"}
    r.state, r._closing = "ready", True
    error = _refused(r.predict([({"f": 1.0}, None)]))
    assert (error.status, error.message) == (503, "the service is shutting down")
    assert error.headers == {"Retry-After": "5"}
    r._closing, r.committer.failure = False, OSError("disk on fire")
    error = _refused(r.learn([LearnItem(["x"], None, {"f": 1.0})]))
    assert (error.status, error.message) == (503, "not ready: the store failed (disk on fire)")
    assert r.committer.events == [] and r.committer.pendings == {}


def test_the_limits_admit_their_value_and_refuse_one_more(tmp_path):
    r = Handlers(tmp_path)
    r.config = ServiceConfig(data_dir=tmp_path, max_batch=2, max_features=3, max_labels=4)
    r._known_labels = {"a", "b"}

    async def accepted(call):
        task = await _started(call)
        r.committer.commit(len(r.committer.commits))
        return await task

    three = {"f": 1.0, "g": 2.0, "h": 3.0}
    assert len(asyncio.run(accepted(r.predict([(three, None), (three, None)])))) == 2
    error = _refused(r.predict([(three, None)] * 3))
    assert (error.status, error.message) == (413, "too many items: 3 > max_batch=2")
    error = _refused(r.learn([LearnItem(["a"], None, {**three, "i": 4.0})]))
    assert (error.status, error.message) == (422, "too many features: 4 > max_features=3")
    error = _refused(r.learn([LearnItem(["c", "d", "e"], None, three)]))
    assert error.status == 422
    assert error.message == "too many labels: the label space would grow to 5 > max_labels=4"
    assert r.committer.events == []
    asyncio.run(accepted(r.learn([LearnItem(["c", "d"], None, three)])))
    assert r._known_labels == {"a", "b", "c", "d"} and len(r.committer.events) == 1
