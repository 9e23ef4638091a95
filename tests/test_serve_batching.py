"""Concurrent requests scored together: each answered with exactly its own rows, as alone."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx

from neka.runs.trained import open_run
from neka.serve.app import build_app
from neka.serve.batching import RequestBatcher


def test_requests_waiting_together_share_one_pass_and_get_their_own_rows():
    passes = []

    def score(rows):  # answers name their row, so a mix-up shows
        passes.append(len(rows))
        return [{"row": row[0]} for row in rows]

    async def send_all():
        batcher = RequestBatcher(score, ThreadPoolExecutor(max_workers=1), max_batch_rows=5, max_wait_ms=20)
        requests = [[[f"{index}-{row}"] for row in range(count)] for index, count in enumerate([2, 1, 2, 3])]
        return requests, await asyncio.gather(*(batcher.answer(rows) for rows in requests))

    requests, answers = asyncio.run(send_all())
    assert answers == [[{"row": row[0]} for row in rows] for rows in requests]
    assert passes == [5, 3]  # 2 + 1 + 2 rows fit max_batch_rows=5; the last request waits for the next pass


def assert_same_answer(shared, lone):
    if "predictions" not in lone:
        assert shared == lone
        return
    assert len(shared["predictions"]) == len(lone["predictions"])
    for got, want in zip(shared["predictions"], lone["predictions"]):
        assert (got["text"], got["label"]) == (want["text"], want["label"])
        assert got["probabilities"].keys() == want["probabilities"].keys()
        for label, probability in want["probabilities"].items():
            assert abs(got["probabilities"][label] - probability) <= 2e-6


def test_concurrent_answers_are_the_lone_answers_and_a_bad_request_spoils_none(tiny_run):
    app = build_app(open_run(tiny_run[0]), batch_size=16, max_texts=8, max_bytes=100_000, max_wait_ms=30)
    bodies = [{"texts": ["영화 최고"]}, {"texts": ["지루하다 " * 30, ""]}, {"texts": []},
              {"texts": ["배우 연기 좋았다", "별로"]}, {"texts": ["a"] * 9}]

    async def send(concurrently: bool):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://neka") as client:
            posts = [client.post("/predict", json=body) for body in bodies]
            if concurrently:
                return await asyncio.gather(*posts)
            return [await post for post in posts]

    alone, together = asyncio.run(send(False)), asyncio.run(send(True))
    assert [answer.status_code for answer in together] == [200, 200, 422, 200, 413]
    for lone, shared in zip(alone, together):  # padded to another length, a probability may move in its 6th decimal
        assert_same_answer(json.loads(shared.content), json.loads(lone.content))
    assert json.loads(together[3].content)["predictions"][1]["text"] == "별로"
