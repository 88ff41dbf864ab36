"""MicroBatcher: concurrent submissions within the wait form one batch (up to max_batch), each
gets its own result in order, and a failing item fails only its own request."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rnnkit.apps.serve.batching import MicroBatcher


def _run(coro):
    return asyncio.run(coro)


def test_concurrent_items_form_batches_of_at_most_max_batch():
    seen, threads = [], set()

    def double(items):
        seen.append(list(items))
        threads.add(threading.current_thread().name)
        return [2 * x for x in items]

    async def go():
        b = MicroBatcher(double, max_batch=4, wait_ms=50, name="t")
        out = await asyncio.gather(*(b.submit(i) for i in range(10)))
        b.close()
        return out

    assert _run(go()) == [2 * i for i in range(10)]
    assert [len(s) for s in seen] == [4, 4, 2] and sorted(x for s in seen for x in s) == list(range(10))
    assert len(threads) == 1 and threads.pop().startswith("rnnkit-t")  # one worker thread, never the loop's


def test_a_lone_request_waits_at_most_the_batch_wait():
    async def go():
        b = MicroBatcher(lambda items: items, max_batch=8, wait_ms=30)
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await b.submit("x") == "x"
        took = loop.time() - start
        b.close()
        return took

    assert _run(go()) < 2.0


def test_a_failing_item_fails_alone_and_the_batcher_keeps_working():
    calls = []

    def fn(items):
        calls.append(list(items))
        if "bad" in items:
            raise ValueError("bad item")
        return [s.upper() for s in items]

    async def go():
        b = MicroBatcher(fn, max_batch=8, wait_ms=50, on_batch=lambda name, n, s: None)
        results = await asyncio.gather(b.submit("a"), b.submit("bad"), b.submit("c"), return_exceptions=True)
        after = await b.submit("d")
        b.close()
        return results, after

    results, after = _run(go())
    assert results[0] == "A" and results[2] == "C" and after == "D"
    assert isinstance(results[1], ValueError) and str(results[1]) == "bad item"
    assert calls[0] == ["a", "bad", "c"] and calls[1:4] == [["a"], ["bad"], ["c"]]


def test_a_batch_function_must_give_one_result_per_item():
    async def go():
        b = MicroBatcher(lambda items: [], max_batch=4, wait_ms=50)
        out = await asyncio.gather(b.submit(1), b.submit(2), return_exceptions=True)
        b.close()
        return out

    out = _run(go())
    assert all(isinstance(e, RuntimeError) and "0 results for 1 items" in str(e) for e in out)


@pytest.mark.parametrize("kw", [{"max_batch": 0}, {"wait_ms": -1}])
def test_bad_settings_are_refused(kw):
    with pytest.raises(ValueError):
        MicroBatcher(lambda x: x, **kw)
