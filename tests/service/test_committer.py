"""The committer: learn events are learned in log order, and predictions in flight go first."""

from __future__ import annotations

import asyncio

from service.committer import Committer
from service.store import Event, Store


def _events(first: int, n: int) -> list[Event]:
    return [Event(i, None, {"x": float(i)}, ["a"], None) for i in range(first, first + n)]


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def _committer(store: Store, learned: list[int], busy: list[bool], max_defer: float):
    return Committer(
        store,
        lambda event: learned.append(event.id),
        lambda seconds, n: None,
        lambda n: None,
        busy=lambda: busy[0],
        max_defer=max_defer,
    )


def _stage(committer: Committer, events: list[Event]) -> int:
    return committer.stage([("append", e) for e in events], events)


def test_learning_waits_for_predictions_in_flight(tmp_path):
    async def scenario():
        store, learned, busy = Store(tmp_path, fsync=False), [], [True]
        committer = _committer(store, learned, busy, max_defer=60.0)
        runner = asyncio.create_task(committer.run(lambda: False))
        first = _stage(committer, _events(1, 5))
        await _until(lambda: store.max_event_id() == 5)  # durable: acknowledged once learned
        second = _stage(committer, _events(6, 5))
        for _ in range(100):  # many chances to learn
            await asyncio.sleep(0)
        while_busy = list(learned)
        busy[0] = False
        await committer.wait(first)
        await committer.wait(second)
        runner.cancel()
        await committer.close()
        store.close()
        return while_busy, learned

    while_busy, learned = asyncio.run(scenario())
    assert while_busy == []
    assert learned == list(range(1, 11))


def test_a_steady_stream_of_predictions_cannot_stop_learning(tmp_path):
    async def scenario():
        store, learned, busy = Store(tmp_path, fsync=False), [], [True]  # busy all along
        committer = _committer(store, learned, busy, max_defer=0.0)
        runner = asyncio.create_task(committer.run(lambda: False))
        first = _stage(committer, _events(1, 5))
        await _until(lambda: store.max_event_id() == 5)
        second = _stage(committer, _events(6, 5))
        await asyncio.wait_for(committer.wait(first), 10)
        await asyncio.wait_for(committer.wait(second), 10)
        runner.cancel()
        await committer.close()
        store.close()
        return learned

    assert asyncio.run(scenario()) == list(range(1, 11))


def test_predictions_in_flight_are_counted_and_released_on_errors(start_service):
    client = start_service(model="majority")
    runtime = client.app.state.runtime
    assert client.post("/v1/predict", json={"features": {"x": 1.0}}).status_code == 200
    assert runtime.predictions_in_flight == 0
    client.post("/v1/predict", json={"features": {"x": 1.0}, "id": "a"})
    conflict = client.post("/v1/predict", json={"features": {"x": 2.0}, "id": "a"})
    assert conflict.status_code == 409
    assert runtime.predictions_in_flight == 0
