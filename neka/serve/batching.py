"""Requests that arrive while the model is busy, scored together in one pass.

A worker coroutine, started when a request arrives and none runs, takes the waiting requests in
arrival order (up to `max_batch_rows` rows, first waiting `max_wait_ms` for more where fewer are
queued) and hands them to the one scoring thread as one list of rows; each request gets back
exactly its own answers, in its order. The scoring itself is unchanged (length-sorted batches of
`batch_size`, neka/inference/scoring.py), so eight clients sending one text each cost one forward
pass, not eight. Requests are validated before they are queued, so a bad one never joins a batch;
one whose client left is dropped from the batch if it has not started, and its answers are
discarded if it has.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor

Rows = list[list[str]]


class RequestBatcher:
    def __init__(self, score: Callable[[Rows], list[dict]], executor: Executor, max_batch_rows: int,
                 max_wait_ms: float):
        self.score, self.executor = score, executor
        self.max_batch_rows, self.max_wait = max_batch_rows, max_wait_ms / 1000
        self.waiting: deque[tuple[Rows, asyncio.Future]] = deque()
        self.worker: asyncio.Task | None = None  # runs while requests wait, ends when none is left

    async def answer(self, rows: Rows) -> list[dict]:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((rows, future))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self.work())
        return await future

    async def work(self) -> None:
        loop = asyncio.get_running_loop()
        while self.waiting:
            if self.max_wait and sum(len(rows) for rows, _ in self.waiting) < self.max_batch_rows:
                await asyncio.sleep(self.max_wait)
            batch = [(rows, future) for rows, future in self.take() if not future.done()]  # clients gone: dropped
            if not batch:
                continue
            try:
                answers = await loop.run_in_executor(self.executor, self.score,
                                                     [row for rows, _ in batch for row in rows])
            except Exception as error:  # a bug in scoring: each request of the batch raises it, as alone it would
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for rows, future in batch:
                if not future.done():  # a client that left meanwhile: its answers are dropped
                    future.set_result(answers[start:start + len(rows)])
                start += len(rows)

    def take(self) -> list[tuple[Rows, asyncio.Future]]:
        """The waiting requests in arrival order, up to max_batch_rows rows (always at least one)."""
        batch, count = [self.waiting.popleft()], 0
        count = len(batch[0][0])
        while self.waiting and count + len(self.waiting[0][0]) <= self.max_batch_rows:
            batch.append(self.waiting.popleft())
            count += len(batch[-1][0])
        return batch
