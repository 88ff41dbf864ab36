"""Micro-batching: requests that arrive within a few milliseconds of each other run as one batch.

    batcher = MicroBatcher(run_batch, max_batch=8, wait_ms=5)
    result = await batcher.submit(item)        # from any number of concurrent request handlers

The first waiting item opens a batch; the batcher then collects more for up to ``wait_ms`` (or
until ``max_batch`` items), calls ``run_batch(items) -> results`` (one result per item, in order)
on its own worker thread (one thread per batcher, so a model is never used by two threads at
once and the event loop keeps serving), and hands each request its result. While a batch runs,
new requests queue up and form the next one.

If a batch raises, each of its items is run again alone, so one bad input fails only its own
request. ``run_batch`` must give every item the same answer alone as in any batch (the apps'
batch functions do: padding with lengths, per-row random generators); the tests check it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

__all__ = ["MicroBatcher"]

log = logging.getLogger("rnnkit.serve")


class MicroBatcher:
    def __init__(self, run_batch: Callable[[Sequence[Any]], Sequence[Any]], max_batch: int = 8,
                 wait_ms: float = 5.0, name: str = "batch", on_batch: Callable[[str, int, float], None] | None = None):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if wait_ms < 0:
            raise ValueError(f"batch wait must be >= 0 ms, got {wait_ms}")
        self.run_batch, self.max_batch, self.wait = run_batch, int(max_batch), wait_ms / 1000.0
        self.name, self.on_batch = name, on_batch
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rnnkit-{name}")
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None

    async def submit(self, item: Any) -> Any:
        """Queue ``item``; returns its result (or raises its error) once its batch has run."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._worker())
        fut = loop.create_future()
        await self._queue.put((item, fut))
        return await fut

    async def _collect(self) -> list[tuple[Any, asyncio.Future]]:
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        deadline = loop.time() + self.wait
        while len(batch) < self.max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except asyncio.TimeoutError:
                break
        return [(item, fut) for item, fut in batch if not fut.cancelled()]

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            if not batch:
                continue
            items = [item for item, _ in batch]
            start = loop.time()
            try:
                results = await loop.run_in_executor(self.executor, self._run, items)
                outcomes = [(r, None) for r in results]
            except Exception as err:  # noqa: BLE001 - isolate the failing item(s)
                if len(items) == 1:
                    outcomes = [(None, err)]
                else:
                    log.info("%s: a batch of %d failed (%s); running its items one by one", self.name, len(items), err)
                    outcomes = []
                    for item in items:
                        try:
                            outcomes.append(((await loop.run_in_executor(self.executor, self._run, [item]))[0], None))
                        except Exception as one_err:  # noqa: BLE001
                            outcomes.append((None, one_err))
            if self.on_batch is not None:
                self.on_batch(self.name, len(items), loop.time() - start)
            for (_, fut), (result, err) in zip(batch, outcomes):
                if fut.done():
                    continue
                if err is not None:
                    fut.set_exception(err)
                else:
                    fut.set_result(result)

    def _run(self, items: list) -> list:
        results = list(self.run_batch(items))
        if len(results) != len(items):
            raise RuntimeError(f"{self.name}: the batch function gave {len(results)} results for {len(items)} items")
        return results

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
