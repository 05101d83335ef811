"""The committer: learn events are learned in log order, and predictions in flight go first."""

from __future__ import annotations

import asyncio

from service.committer import Committer
from service.errors import ServiceError
from service.pending import Pending
from service.store import Event, Store, labels_digest


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


def test_staged_writes_are_visible_until_their_commit(tmp_path):
    """A request sees the writes of the requests before it: predictions and learned ids staged
    in a batch that is not committed yet (then the store's rows, once it is)."""

    async def scenario():
        store, learned, busy = Store(tmp_path, fsync=False), [], [False]
        committer = _committer(store, learned, busy, max_defer=60.0)
        now = 1000.0
        rows = [Pending(f"p{i}", {"x": 1.0}, ["a"], {"a": 0.9}, now + i - 1) for i in range(3)]
        seq = committer.put(rows)
        seen = {row.id: committer.pending(row.id, now) for row in rows}
        unknown = committer.pending("nope", now)
        # an event learned under "p2" consumes its prediction; its key is remembered
        event = Event(1, "p2", {"x": 1.0}, ["b", "a"], ["a"])
        staged = committer.stage([("append", event)], [event], consumed=["p2"])
        consumed, key = committer.pending("p2", now), committer.learned("p2")
        other = committer.learned("p1")
        await committer.wait(seq)  # the rows, committed on the loop; the event still staged
        middle = committer.pending("p2", now), committer.learned("p2"), committer.pending("p1", now)
        runner = asyncio.create_task(committer.run(lambda: False))
        await committer.wait(staged)
        after = committer.pending("p1", now), committer.learned("p2"), committer.pending("p2", now)
        runner.cancel()
        await committer.close()
        store.close()
        return seq, staged, seen, unknown, consumed, key, other, middle, after

    seq, staged, seen, unknown, consumed, key, other, middle, after = asyncio.run(scenario())
    assert seen["p0"] == (None, seq)  # expired a second ago
    assert seen["p1"][0].id == "p1" and seen["p1"][1] == seq  # expires right now: still there
    assert seen["p2"][0].id == "p2" and seen["p2"][1] == seq
    assert unknown == (None, None) and other == (None, None)
    assert consumed == (None, staged) and staged != seq
    assert key == ((1, labels_digest(["b", "a"])), staged)
    assert middle[:2] == ((None, staged), ((1, labels_digest(["b", "a"])), staged))
    assert middle[2][0].id == "p1" and middle[2][1] is None  # from the store now
    assert after[0][0].id == "p1" and after[0][1] is None
    assert after[1] == ((1, labels_digest(["b", "a"])), None) and after[2] == (None, None)


def test_a_failing_store_fails_the_waiting_requests_with_503(tmp_path):
    async def scenario():
        store, learned, busy = Store(tmp_path, fsync=False), [], [False]
        committer = _committer(store, learned, busy, max_defer=60.0)

        def broken(groups):
            raise OSError("disk on fire")

        store.write_log_groups = broken
        runner = asyncio.create_task(committer.run(lambda: False))
        seq, raised = _stage(committer, _events(1, 3)), None
        try:
            await committer.wait(seq)
        except ServiceError as error:
            raised = error
        try:
            await runner
        except OSError:
            pass
        committer.fail(RuntimeError("later"))  # the first failure is kept
        await committer.close()
        store.close()
        return raised, committer.failure, learned

    raised, failure, learned = asyncio.run(scenario())
    assert raised.status == 503
    assert raised.message == "the store failed (disk on fire); restart the service"
    assert isinstance(failure, OSError) and str(failure) == "disk on fire"
    assert learned == []


def test_each_batch_reports_its_commit_and_the_predictions_it_expired(tmp_path):
    async def scenario():
        store, commits, expired = Store(tmp_path, fsync=False), [], []
        committer = Committer(
            store, lambda event: None, lambda s, n: commits.append((s, n)), expired.append
        )
        rows = [Pending(f"p{i}", {"x": 1.0}, ["a"], {"a": 0.9}, 100.0 + i) for i in range(3)]
        await committer.wait(committer.put(rows))
        runner = asyncio.create_task(committer.run(lambda: False))
        await committer.wait(_stage(committer, _events(1, 4)))
        await committer.wait(committer.stage([], pending_ops=[("expire", 101.5)]))
        runner.cancel()
        await committer.close()
        store.close()
        return commits, expired

    commits, expired = asyncio.run(scenario())
    assert [n for _, n in commits] == [4, 0]
    assert all(0.0 <= seconds < 10.0 for seconds, _ in commits)
    assert expired == [2]  # p0 and p1 expired before 101.5, p2 has not
