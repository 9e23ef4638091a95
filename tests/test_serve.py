"""The server's API against the real app (FastAPI's TestClient) over real trained runs."""

import io
import json
import shutil
import socket

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from neka.cli.resolvers import packaged_data_path
from neka.inference.scoring import encode_frame, predict_outputs
from neka.predict import predict_stream
from neka.runs.trained import open_run
from neka.serve.__main__ import listen
from neka.serve.app import build_app

from conftest import assert_user_error, run_in_process

REVIEWS = pd.read_csv(packaged_data_path("nsmc/test.tsv"), sep="\t").head(40)
OVERLONG = "정말 재밌는 영화 " * 1000  # thousands of tokens against max_len 64
MAX_TEXTS, MAX_BYTES = 50, 60_000


@pytest.fixture(scope="module")
def client(tiny_run) -> TestClient:
    return TestClient(build_app(open_run(tiny_run[0]), batch_size=16, max_texts=MAX_TEXTS, max_bytes=MAX_BYTES))


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory):
    """A real sentence-pair run: do two reviews share their sentiment?"""
    workdir = tmp_path_factory.mktemp("pair")
    reviews = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(301)
    pairs = pd.DataFrame({"premise": reviews["document"][:-1].to_numpy(),
                          "hypothesis": reviews["document"][1:].to_numpy(),
                          "same": (reviews["label"][:-1].to_numpy() == reviews["label"][1:].to_numpy()).astype(int)})
    pairs.to_csv(workdir / "pairs.csv", index=False)
    result = run_in_process("+experiment=tiny", f"data.path={workdir / 'pairs.csv'}", "data.test_path=null",
                            "data.text_columns=[premise,hypothesis]", "data.label_column=same", "data.pair=true",
                            f"hydra.run.dir={workdir / 'run'}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return open_run(workdir / "run"), pairs


def test_health_info_and_page(client, tiny_run):
    assert client.get("/health").json() == {"status": "ok"}
    info = client.get("/info").json()
    assert info["labels"] == ["0", "1"] and info["task"] == "classification" and info["max_len"] == 64
    assert info["input_columns"] == ["document"] and info["pair"] is False
    assert info["model"] == "bert from scratch (2 layers, hidden 128)" and info["tokenizer"].startswith("wordpiece")
    assert info["metrics"] == json.loads((tiny_run[0] / "metrics.json").read_text())
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: it works offline


def test_predict_agrees_with_neka_predict(client, tiny_run):
    texts = [*REVIEWS["document"], OVERLONG]
    served = client.post("/predict", json={"texts": texts})
    assert served.status_code == 200, served.text
    piped = io.StringIO()  # what `python -m neka.predict input=-` prints, from its own function
    predict_stream([open_run(tiny_run[0])], io.StringIO("\n".join(texts) + "\n"), piped, 64, "cpu")
    expected = [json.loads(line) for line in piped.getvalue().splitlines()]
    answers = served.json()["predictions"]
    assert [a["text"] for a in answers] == texts  # input order, though scored in length order
    assert [a["label"] for a in answers] == [e["label"] for e in expected]
    for answer, want in zip(answers, expected):
        assert answer["probability"] == answer["probabilities"][answer["label"]]
        assert answer["probabilities"] == pytest.approx(want["probabilities"], abs=2e-6)


def test_overlong_texts_are_truncated_to_max_len(client):
    longer = OVERLONG + " 최악의 졸작" * 500  # differs only after the first 64 tokens
    answers = client.post("/predict", json={"texts": [OVERLONG, longer]}).json()["predictions"]
    assert answers[0]["probabilities"] == answers[1]["probabilities"]


@pytest.mark.parametrize("body, status, fragment", [
    ('{"texts": ["영화"', 400, "not valid JSON"),
    ('{"texts": "one string"}', 422, "body.texts: Input should be a valid list"),
    ('{"texts": ["ok", 3]}', 422, "body.texts.1: Input should be a valid string"),
    ('{"texts": []}', 422, "at least 1 item"),
    ('{"texts": ["ok", "\\ud800"]}', 422, "body.texts.1: Value error, not valid Unicode text"),
    ("{}", 422, 'exactly one of "texts", "pairs" or "rows"'),
    ('{"texts": ["a"], "pairs": [["a", "b"]]}', 422, "exactly one of"),
    ('{"text": ["a"]}', 422, "body.text: Extra inputs are not permitted"),
    ("[1]", 422, "valid dictionary"),
    ('{"pairs": [["a", "b"]]}', 422, 'this run reads 1 per row (document); send {"texts"'),
    (json.dumps({"texts": ["a"] * (MAX_TEXTS + 1)}), 413, f"at most {MAX_TEXTS} (serve.max_texts)"),
    (json.dumps({"texts": ["가" * MAX_BYTES]}), 413, f"at most {MAX_BYTES} (serve.max_bytes)"),
])
def test_bad_requests_get_a_clear_json_error(client, body, status, fragment):
    response = client.post("/predict", content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]


def test_streamed_body_over_the_limit_and_a_body_not_sent_as_json(client):
    chunks = (b'{"texts": ["' + b"a" * 10_000 + b'", ' for _ in range(10))  # no Content-Length: chunked
    response = client.post("/predict", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "serve.max_bytes" in response.json()["error"]
    response = client.post("/predict", content=b'{"texts": ["a"]}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and "application/json" in response.json()["error"]


def test_pair_run_scores_pairs_and_refuses_plain_texts(pair_run):
    run, pairs = pair_run
    client = TestClient(build_app(run, batch_size=16, max_texts=MAX_TEXTS, max_bytes=MAX_BYTES))
    assert client.get("/info").json()["pair"] is True
    rows = pairs[["premise", "hypothesis"]].head(30)
    served = client.post("/predict", json={"pairs": rows.to_numpy().tolist()})
    assert served.status_code == 200, served.text
    expected = predict_outputs(run, encode_frame(run, rows, "pairs"), batch_size=64)  # neka.predict's scoring
    assert [a["probabilities"]["1"] for a in served.json()["predictions"]] == pytest.approx(expected[:, 1], abs=2e-6)
    as_rows = client.post("/predict", json={"rows": rows.to_numpy().tolist()}).json()["predictions"]
    assert as_rows == served.json()["predictions"]
    refused = client.post("/predict", json={"texts": ["just one text"]})
    assert refused.status_code == 422
    assert 'this run reads 2 per row (premise, hypothesis); send {"pairs"' in refused.json()["error"]


def test_the_listening_socket_sends_small_answers_at_once():
    """Without TCP_NODELAY every answer waited ~40 ms for a delayed ACK (found by the load test)."""
    with listen("127.0.0.1", 0) as listener:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_incomplete_run_or_unreadable_checkpoint_stops_the_server_at_start(tiny_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(tiny_run[0], unfinished, ignore=shutil.ignore_patterns("tb", "eval"))
    (unfinished / "metrics.json").unlink()
    assert_user_error(run_in_process(f"run_dir={unfinished}", "port=0", cwd=tmp_path, module="neka.serve"),
                      "did not finish training (no metrics.json)")
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"not a checkpoint")
    assert_user_error(run_in_process(f"run_dir={tiny_run[0]}", f"ckpt={broken}", "port=0", cwd=tmp_path,
                                     module="neka.serve"), "broken.ckpt is not a readable checkpoint")
    assert not list(tmp_path.glob("*.log"))  # the server writes no files, not even an empty serve.log
