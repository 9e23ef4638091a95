"""Rows longer than max_len: head, head_tail and windows (data.truncation), from the cut of one row
to a windowed run trained, evaluated, predicted, served and exported to ONNX."""

import asyncio
import json

import httpx
import numpy as np
import pandas as pd
import pytest
import torch

from neka.cli.resolvers import packaged_data_path
from neka.data.batching import Collate, EncodedDataset, length_sorted_loader
from neka.data.transform import encode_rows
from neka.data.truncation import Truncation, cut_row
from neka.inference.scoring import encode_frame
from neka.model.windows import pool_windows
from neka.runs.trained import open_run

from conftest import MULTILABEL_SETTINGS, assert_user_error, run_in_process

LONG = list(range(100, 120))  # 20 tokens


def test_head_keeps_the_start_and_head_tail_a_quarter_of_the_start_and_the_end():
    assert cut_row([LONG], 8, Truncation("head")) == [[LONG[:8]]]
    assert cut_row([LONG], 8, Truncation("head_tail")) == [[LONG[:2] + LONG[-6:]]]
    assert cut_row([LONG[:8]], 8, Truncation("windows")) == [[LONG[:8]]]  # a row that fits is one sequence


def test_windows_cover_every_token_with_the_stride_and_end_at_the_last_token():
    windows = cut_row([LONG], 8, Truncation("windows", window_stride=5))
    assert [window[0][0] for window in windows] == [100, 105, 110, 112]
    assert windows[-1][0] == LONG[-8:] and all(len(window[0]) == 8 for window in windows)
    assert {token for window in windows for token in window[0]} == set(LONG)
    assert len(cut_row([LONG], 8, Truncation("windows"))) == 4  # null stride: half a window, starts 0 4 8 12


def test_a_pair_slides_over_its_longer_segment_and_keeps_segment_ids():
    question, passage = [1, 2, 3], LONG
    rows = encode_rows([[question], [passage]], np.array([1]), cls_id=2, sep_id=3, max_len=12, pair=True,
                       truncation=Truncation("windows", window_stride=4))
    assert len(rows) == 1 and rows.sequence_count > 1 and set(rows.sequence_rows) == {0}
    for index in range(rows.sequence_count):
        sequence = rows.row(index).tolist()
        assert len(sequence) <= 12 and sequence[:5] == [2, 1, 2, 3, 3]  # [CLS] question [SEP] in every window
        assert rows.first_segment_lengths[index] == 5
    assert rows.full_lengths.tolist() == [3 + 20 + 3]


def test_training_items_are_windows_and_scoring_batches_are_whole_rows():
    rows = encode_rows([[LONG, [7, 8], LONG[:15]]], np.array([0, 1, 2]), cls_id=2, sep_id=3, max_len=10, pair=False,
                       truncation=Truncation("windows"))
    per_row = np.bincount(rows.sequence_rows)
    assert per_row.tolist()[1] == 1 and per_row.min() >= 1 and rows.sequence_count == per_row.sum()
    training = Collate(0)(EncodedDataset(rows).__getitems__(list(range(rows.sequence_count))))
    assert training["labels"].tolist() == np.repeat([0, 1, 2], per_row).tolist() and "window_rows" not in training
    loader, order = length_sorted_loader(rows, batch_size=4, collate_fn=Collate(0))
    batches = list(loader)
    assert sum(len(batch["labels"]) for batch in batches) == 3  # one label per row
    for batch in batches:  # at most 4 windows a batch unless one row alone has more
        assert len(batch["input_ids"]) <= max(4, per_row.max())
        assert batch["window_rows"].tolist() == sorted(batch["window_rows"].tolist())
    assert sorted(order.tolist()) == [0, 1, 2]
    first = rows.first(2)  # the first rows with all their windows, as the ONNX parity check takes them
    assert len(first) == 2 and first.sequence_count == per_row[:2].sum()
    assert first.row(first.sequence_count - 1).tolist() == rows.row(int(per_row[:2].sum()) - 1).tolist()


@pytest.mark.parametrize("how", ["mean", "max"])
def test_pooling_gives_each_row_the_mean_or_max_of_its_windows_logits(how):
    logits = torch.tensor([[1.0, -2.0], [3.0, 0.0], [0.5, 0.5], [-1.0, 4.0], [2.0, 2.0]])
    window_rows = torch.tensor([0, 0, 1, 2, 2])
    pooled = pool_windows(logits, window_rows, how)
    reduce = (lambda part: part.mean(0)) if how == "mean" else (lambda part: part.max(0).values)
    expected = torch.stack([reduce(logits[window_rows == row]) for row in range(3)])
    torch.testing.assert_close(pooled, expected)


def late_label_table(count: int, seed: int) -> pd.DataFrame:
    """Shipped reviews behind filler text longer than the windows these tests train with."""
    reviews = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").dropna().sample(count, random_state=seed)
    filler = "오늘 회의는 세 시에 시작합니다 자료는 미리 보내 드렸습니다 " * 2
    return reviews.assign(document=[filler + review for review in reviews["document"]])


@pytest.fixture(scope="module")
def windowed_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("windows")
    late_label_table(300, 0).to_csv(workdir / "train.tsv", sep="\t", index=False)
    late_label_table(60, 1).to_csv(workdir / "test.tsv", sep="\t", index=False)
    result = run_in_process("+experiment=tiny", "data.path=train.tsv", "data.test_path=test.tsv",
                            "data.truncation=windows", "data.max_len=12", "data.window_stride=5", "data.cache_dir=null",
                            "hydra.run.dir=run", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def windows_one_by_one(run, frame: pd.DataFrame) -> np.ndarray:
    """Each row's probabilities the long way: every window through the model alone, logits
    averaged per row in numpy, then the run's temperature and softmax."""
    rows = encode_frame(run, frame, "test")
    model = run.model.eval()
    logits = []
    with torch.no_grad():
        for index in range(rows.sequence_count):
            batch = Collate(run.tokenizer.pad_id)(EncodedDataset(rows).__getitems__([index]))
            logits.append(model(batch["input_ids"], batch["valid_length"], batch["token_type_ids"])[0].numpy())
    logits = np.array(logits)
    per_row = torch.from_numpy(np.stack([logits[rows.sequence_rows == row].mean(axis=0) for row in range(len(rows))]))
    return per_row.sigmoid().numpy() if run.is_multilabel else torch.softmax(per_row / model.temperature, -1).numpy()


def test_a_windowed_run_reads_every_window_and_answers_one_row_per_input_row(windowed_run, tmp_path):
    run_dir = windowed_run / "run"
    log = (run_dir / "train.log").read_text(encoding="utf-8")
    assert "rows longer than data.max_len=12: train 270 of 270 (100.0%)" in log
    assert "data.truncation=windows, window_stride=5" in log
    frame = pd.read_csv(windowed_run / "test.tsv", sep="\t")
    result = run_in_process(f"run_dir={run_dir}", f"input={windowed_run / 'test.tsv'}", f"output={tmp_path / 'p.tsv'}",
                            cwd=tmp_path, module="neka.predict")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rows longer than data.max_len=12: test.tsv 60 of 60 (100.0%)" in result.stderr
    predicted = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert len(predicted) == len(frame)
    expected = windows_one_by_one(open_run(run_dir), frame)
    np.testing.assert_allclose(predicted[["prob_0", "prob_1"]].to_numpy(), expected, atol=1e-5)
    # evaluate scores the recorded test split as training's test did
    result = run_in_process(f"run_dir={run_dir}", cwd=tmp_path, module="neka.evaluate")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    evaluated = json.loads((run_dir / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert abs(evaluated["test_acc"] - metrics["test_acc"]) < 1e-6
    assert abs(evaluated["test_acc"] - float(np.mean(expected.argmax(1) == frame["label"].to_numpy()))) < 1e-6


def test_the_server_and_the_onnx_export_answer_as_predict_does(windowed_run, tmp_path):
    pytest.importorskip("onnxruntime")
    from neka.serve.app import build_app

    run_dir = windowed_run / "run"
    frame = pd.read_csv(windowed_run / "test.tsv", sep="\t").head(5)
    expected = windows_one_by_one(open_run(run_dir), frame)
    app = build_app(open_run(run_dir), batch_size=16, max_texts=8, max_bytes=100_000)

    async def post():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://neka") as client:
            return await client.post("/predict", json={"texts": frame["document"].tolist()})

    answers = asyncio.run(post()).json()["predictions"]
    served = np.array([[answer["probabilities"]["0"], answer["probabilities"]["1"]] for answer in answers])
    np.testing.assert_allclose(served, expected, atol=2e-6)
    result = run_in_process(f"run_dir={run_dir}", f"out={tmp_path / 'onnx'}", "format=onnx", cwd=tmp_path,
                            module="neka.export")
    assert result.returncode == 0, result.stderr[-3000:]
    parity = json.loads((tmp_path / "onnx" / "parity.json").read_text(encoding="utf-8"))
    assert parity["float32"]["max_abs_diff"] <= 1e-4 and parity["float32"]["label_agreement"] == 1.0
    frame.to_csv(tmp_path / "in.tsv", sep="\t", index=False)
    result = run_in_process(f"run_dir={tmp_path / 'onnx'}", "input=in.tsv", "output=onnx.tsv", "backend=onnx",
                            cwd=tmp_path, module="neka.predict")
    assert result.returncode == 0, result.stderr[-3000:]
    onnx = pd.read_csv(tmp_path / "onnx.tsv", sep="\t")[["prob_0", "prob_1"]].to_numpy()
    np.testing.assert_allclose(onnx, expected, atol=1e-4)


def test_a_multilabel_run_pools_windows_before_each_labels_sigmoid(tmp_path):
    result = run_in_process(*MULTILABEL_SETTINGS, "data.max_rows=120", "data.truncation=windows", "data.max_len=12",
                            "data.cache_dir=null", "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = open_run(tmp_path / "run")
    frame = pd.read_csv(packaged_data_path("hate_speech/multilabel_dev.tsv"), sep="\t", keep_default_na=False).head(8)
    frame[["comments"]].to_csv(tmp_path / "in.tsv", sep="\t", index=False)
    result = run_in_process(f"run_dir={tmp_path / 'run'}", "input=in.tsv", cwd=tmp_path, module="neka.predict")
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = pd.read_csv(tmp_path / "in.predictions.tsv", sep="\t", keep_default_na=False)
    expected = windows_one_by_one(run, frame)
    assert run.is_multilabel and (encode_frame(run, frame, "dev").sequence_count > len(frame))
    np.testing.assert_allclose(predicted[[f"prob_{name}" for name in run.label_names]].to_numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("setting, key", [("data.truncation=tail", "data.truncation"),
                                          ("data.window_aggregation=median", "data.window_aggregation"),
                                          ("data.window_stride=0", "data.window_stride")])
def test_an_unknown_truncation_setting_is_one_line(tmp_path, setting, key):
    result = run_in_process("+experiment=tiny", setting, cwd=tmp_path)
    assert_user_error(result, key)
