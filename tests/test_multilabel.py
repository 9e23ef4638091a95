"""Multi-label tables through every command: label sets joined by a separator (the shipped
hate-speech comments, data=hate_multilabel) and one 0/1 column per label, built from the same file."""

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient
from transformers import pipeline

from neka.cli.resolvers import packaged_data_path
from neka.data.multilabel import build_multilabel_map, indicator_sets, label_sets, multi_hot, strata
from neka.model.classifier import build_loss_weights
from neka.model.metrics import MultilabelMetrics
from neka.runs.thresholds import tune_thresholds
from neka.runs.trained import open_run
from neka.serve.app import build_app

from conftest import MULTILABEL_SETTINGS as SETTINGS
from conftest import assert_user_error, kill_after_first_step_checkpoint, run_in_process

TRAIN = Path(packaged_data_path("hate_speech/multilabel_train.tsv"))
LABELS = ["gender", "hate", "offensive", "others"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("multilabel")


@pytest.fixture(scope="module")
def label_set_run(multilabel_run) -> tuple[Path, subprocess.CompletedProcess]:
    return multilabel_run


def indicator_table(rows: int) -> pd.DataFrame:
    """The shipped label sets as the Kaggle form: one true/false column per label."""
    table = pd.read_csv(TRAIN, sep="\t", keep_default_na=False).head(rows)
    sets = table["labels"].str.split("|")
    return pd.DataFrame({"comments": table["comments"],
                         **{label: ["true" if label in labels else "false" for labels in sets] for label in LABELS}})


@pytest.fixture(scope="module")
def column_run(workdir) -> Path:
    indicator_table(300).to_csv(workdir / "columns.csv", index=False)
    result = run_in_process(f"data.path={workdir / 'columns.csv'}", "data.text_columns=[comments]",
                            f"data.label_columns=[{','.join(LABELS)}]", "tokenizer.vocab_size=1000",
                            "trainer.max_epochs=1", "hydra.run.dir=columns", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "data.task=auto: data.label_columns is set" in (workdir / "columns" / "train.log").read_text()
    return workdir / "columns"


def test_label_sets_train_with_tuned_thresholds_metrics_and_baselines(label_set_run):
    run_dir, result = label_set_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for split in ("val", "test"):
        for name in ("f1_micro", "f1_macro", "subset_acc", "hamming", "bce", *(f"f1_label_{x}" for x in LABELS)):
            assert 0 <= metrics[f"{split}_{name}"] <= 1 or name == "bce", name
    assert json.loads((run_dir / "labels.json").read_text()) == {label: i for i, label in enumerate(LABELS)}
    thresholds = json.loads((run_dir / "thresholds.json").read_text())
    assert list(thresholds) == LABELS and all(0 < value < 1 for value in thresholds.values())
    inputs = json.loads((run_dir / "inputs.json").read_text())
    assert inputs == {"input_columns": ["comments"], "label_column": "labels", "label_sep": "|",
                      "label_columns": None, "task": "multilabel"}
    assert list(run_dir.glob("checkpoints/best-*.ckpt"))  # kept by val/f1_micro
    assert "baseline: all-negative" in result.stdout and "baseline: label prior" in result.stdout
    assert "test F1 per label: gender" in result.stdout and "micro-F1" in result.stdout
    assert "val_f1_micro" in pd.read_csv(run_dir / "history.csv").columns


def test_evaluate_writes_the_same_metrics_a_per_label_report_and_figures(label_set_run, workdir):
    run_dir, _ = label_set_run
    result = run_in_process(f"run_dir={run_dir}", cwd=workdir, module="neka.evaluate")
    assert result.returncode == 0, result.stderr[-3000:]
    evaluated = json.loads((run_dir / "eval" / "metrics.json").read_text())
    trained = json.loads((run_dir / "metrics.json").read_text())
    for name in ("test_f1_micro", "test_f1_macro", "test_subset_acc", "test_hamming", "test_f1_label_hate"):
        assert evaluated[name] == pytest.approx(trained[name], abs=1e-6), name
    report = pd.read_csv(run_dir / "eval" / "report.csv")
    assert list(report.columns) == ["label", "threshold", "precision", "recall", "f1", "support"]
    assert report["label"].tolist() == LABELS
    assert report["support"].tolist() == [67, 122, 189, 62]  # the shipped dev set's label counts
    assert (run_dir / "eval" / "confusion_matrix.png").stat().st_size > 0


def test_predict_file_and_stdin_apply_the_run_thresholds(label_set_run, workdir, monkeypatch):
    run_dir, _ = label_set_run
    rows = pd.read_csv(TRAIN, sep="\t", keep_default_na=False).tail(20)
    rows.to_csv(workdir / "rows.tsv", sep="\t", index=False)
    result = run_in_process(f"run_dir={run_dir}", f"input={workdir / 'rows.tsv'}", cwd=workdir,
                            module="neka.predict")
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = pd.read_csv(workdir / "rows.predictions.tsv", sep="\t", keep_default_na=False)
    assert predicted.columns.tolist() == ["comments", "labels", "predicted_labels", *(f"prob_{x}" for x in LABELS)]
    assert predicted["comments"].tolist() == rows["comments"].tolist()
    thresholds = json.loads((run_dir / "thresholds.json").read_text())
    for row in predicted.itertuples():
        expected = [label for label in LABELS if getattr(row, f"prob_{label}") >= thresholds[label]]
        assert row.predicted_labels == "|".join(expected)

    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(rows["comments"]) + "\n"))
    streamed = run_in_process(f"run_dir={run_dir}", "input=-", cwd=workdir, module="neka.predict")
    answers = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert [answer["text"] for answer in answers] == rows["comments"].tolist()
    assert [answer["labels"] for answer in answers] == [p.split("|") if p else [] for p in predicted.predicted_labels]
    assert np.allclose([[a["probabilities"][x] for x in LABELS] for a in answers],
                       predicted[[f"prob_{x}" for x in LABELS]], atol=1e-5)


def test_serve_answers_label_lists_and_says_the_thresholds(label_set_run):
    run_dir, _ = label_set_run
    run = open_run(run_dir)
    client = TestClient(build_app(run, batch_size=16, max_texts=8, max_bytes=1 << 16))
    info = client.get("/info").json()
    assert info["task"] == "multilabel" and info["labels"] == LABELS
    assert info["thresholds"] == json.loads((run_dir / "thresholds.json").read_text())
    [answer] = client.post("/predict", json={"texts": ["정말 못된 놈들이네"]}).json()["predictions"]
    assert set(answer) == {"text", "labels", "probabilities"} and list(answer["probabilities"]) == LABELS
    assert answer["labels"] == [x for x in LABELS if answer["probabilities"][x] >= info["thresholds"][x]]


def test_export_gives_the_same_probabilities_through_a_pipeline(label_set_run, workdir):
    run_dir, _ = label_set_run
    out = workdir / "exported"
    result = run_in_process(f"run_dir={run_dir}", f"out={out}", cwd=workdir, module="neka.export")
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert config["neka_thresholds"] == json.loads((run_dir / "thresholds.json").read_text())
    texts = pd.read_csv(TRAIN, sep="\t", keep_default_na=False)["comments"].head(12).tolist()
    classifier = pipeline("text-classification", model=str(out), top_k=None, function_to_apply="sigmoid")
    exported = [{score["label"]: score["score"] for score in row} for row in classifier(texts, truncation=True)]
    pd.DataFrame({"comments": texts}).to_csv(workdir / "texts.csv", index=False)
    assert run_in_process(f"run_dir={run_dir}", f"input={workdir / 'texts.csv'}", cwd=workdir,
                          module="neka.predict").returncode == 0
    predicted = pd.read_csv(workdir / "texts.predictions.csv")
    assert np.allclose([[row[x] for x in LABELS] for row in exported], predicted[[f"prob_{x}" for x in LABELS]],
                       atol=1e-4)


def test_label_columns_train_evaluate_predict_serve_and_export(column_run, workdir, monkeypatch):
    assert json.loads((column_run / "labels.json").read_text()) == {label: i for i, label in enumerate(LABELS)}
    held_out = indicator_table(340).tail(40)
    held_out.to_csv(workdir / "held_out.csv", index=False)
    result = run_in_process(f"run_dir={column_run}", f"data.path={workdir / 'held_out.csv'}", cwd=workdir,
                            module="neka.evaluate")
    assert result.returncode == 0, result.stderr[-3000:]
    [metrics_file] = (column_run / "eval").glob("held_out-*/metrics.json")
    assert json.loads(metrics_file.read_text())["eval_rows"] == 40
    result = run_in_process(f"run_dir={column_run}", f"input={workdir / 'held_out.csv'}", cwd=workdir,
                            module="neka.predict")
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = pd.read_csv(workdir / "held_out.predictions.csv", keep_default_na=False)
    assert predicted.columns[-5:].tolist() == ["predicted_labels", *(f"prob_{x}" for x in LABELS)]
    assert all(set(p.split("|")) <= set(LABELS) for p in predicted.predicted_labels if p)
    probabilities = predicted[[f"prob_{x}" for x in LABELS]].to_numpy()

    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(held_out["comments"]) + "\n"))
    streamed = run_in_process(f"run_dir={column_run}", "input=-", cwd=workdir, module="neka.predict")
    answers = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert [a["labels"] for a in answers] == [p.split("|") if p else [] for p in predicted.predicted_labels]

    client = TestClient(build_app(open_run(column_run), batch_size=16, max_texts=8, max_bytes=1 << 16))
    served = client.post("/predict", json={"texts": held_out["comments"].head(3).tolist()}).json()["predictions"]
    assert [a["labels"] for a in served] == [a["labels"] for a in answers[:3]]

    out = workdir / "columns_exported"
    assert run_in_process(f"run_dir={column_run}", f"out={out}", cwd=workdir, module="neka.export").returncode == 0
    classifier = pipeline("text-classification", model=str(out), top_k=None, function_to_apply="sigmoid")
    exported = [{s["label"]: s["score"] for s in row} for row in classifier(held_out["comments"].tolist(),
                                                                             truncation=True)]
    assert np.allclose([[row[x] for x in LABELS] for row in exported], probabilities, atol=1e-4)


def test_a_killed_multilabel_run_resumes_to_the_uninterrupted_result(label_set_run, workdir):
    uninterrupted, _ = label_set_run
    workdir = uninterrupted.parent  # beside it: the same data.cache_dir
    kill_after_first_step_checkpoint(workdir, "killed", SETTINGS)
    result = run_in_process(*SETTINGS, "resume=killed", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("metrics.json", "thresholds.json", "history.csv"):
        assert (workdir / "killed" / name).read_text() == (uninterrupted / name).read_text(), name


def test_a_grid_over_thresholds_ranks_jobs_by_micro_f1(workdir):
    result = run_in_process("-m", "data=hate_multilabel", "data.max_rows=200", "data.test_path=null",
                            "tokenizer.vocab_size=1000", "trainer.max_epochs=1", "model.thresholds=0.5,tune",
                            f"hydra.sweep.dir={workdir / 'sweep'}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = pd.read_csv(workdir / "sweep" / "summary.csv")
    assert list(summary.columns) == ["overrides", "val_f1_micro", "test_f1_micro", "folder"]
    assert len(summary) == 2 and summary["val_f1_micro"].is_monotonic_decreasing


def test_label_sets_split_and_encode():
    cells = pd.Series(["hate|others", None, " offensive | hate ", "hate"], name="labels")
    sets = label_sets(cells, "|", "t.tsv")
    assert sets == [["hate", "others"], [], ["hate", "offensive"], ["hate"]]
    label_map = build_multilabel_map(sets, None, "t.tsv")
    assert label_map == {"hate": 0, "offensive": 1, "others": 2}
    assert multi_hot(sets, label_map, "train").tolist() == [[1, 0, 1], [0, 0, 0], [1, 1, 0], [1, 0, 0]]
    assert strata(sets, cells.index).tolist() == ["others", "", "offensive", "hate"]  # each row's rarest label


def test_unknown_and_never_trained_labels_are_warned_not_fatal(caplog):
    with caplog.at_level(logging.WARNING):
        matrix = multi_hot([["hate", "spam"], ["spam"]], {"hate": 0, "others": 1}, "test rows")
        build_multilabel_map([["a"], []], ["a", "b"], "t.csv")
    assert matrix.tolist() == [[1, 0], [0, 0]]
    assert "2 label(s) never seen in training were left out ('spam' x2)" in caplog.text
    assert "labels ['b'] never occur in the training rows of t.csv" in caplog.text


def test_balanced_weights_are_each_labels_negatives_over_positives_and_change_the_loss():
    labels = np.array([[1, 0], [0, 0], [0, 1], [0, 1]], dtype=np.float32)
    weights = build_loss_weights("balanced", labels, 2)
    assert weights.tolist() == [3.0, 1.0]
    logits = torch.zeros(4, 2)
    assert MultilabelMetrics(2).update(logits, torch.from_numpy(labels), weights) > \
        MultilabelMetrics(2).update(logits, torch.from_numpy(labels))


def test_tuned_thresholds_maximise_each_labels_f1():
    probabilities = np.array([[0.9, 0.3], [0.35, 0.2], [0.3, 0.25], [0.1, 0.6]], dtype=np.float32)
    labels = np.array([[1, 1], [1, 1], [0, 0], [0, 1]], dtype=np.float32)
    thresholds = tune_thresholds(probabilities, labels, ["a", "b"])
    assert 0.3 < thresholds[0] <= 0.35  # both positives (0.9, 0.35) and not the 0.3 negative
    assert 0.25 < thresholds[1] <= 0.3 or thresholds[1] <= 0.2  # F1 1.0 excludes 0.25, or all rows: 6/7


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("table, overrides, fragments", [
    ("text,toxic,insult\n좋아요,0,1\n싫어요,1,maybe\n", ["data.label_columns=[toxic,insult]"],
     ["data.label_columns: 'insult'", "['maybe']", "0/1 or true/false"]),
    ("text,toxic,insult\n좋아요,0,1\n싫어요,1,0\n", ["data.label_columns=[toxic,insluts]"],
     ["data.label_columns: no column 'insluts'", "did you mean 'insult'?"]),
    ("text,label\n좋아요,1\n싫어요,0\n", ["data.label_sep=|"], ["data.label_sep: 'label'", "holds numbers",
                                                              "data.label_sep=null"]),
    ("text,label\n좋아요,a|b\n싫어요,a\n", ["data.label_sep=|", "data.task=classification"],
     ["data.label_sep is set", "data.task=multilabel"]),
    ("text,label\n좋아요,a\n싫어요,b\n", ["data.task=multilabel"], ["data.task=multilabel", "data.label_sep"]),
])
def test_bad_multilabel_tables_get_one_line(tmp_path, table, overrides, fragments):
    path = write(tmp_path / "t.csv", table)
    result = run_in_process(f"data.path={path}", "data.text_columns=[text]", *overrides, "data.cache_dir=null",
                            "hydra.run.dir=run", cwd=tmp_path)
    assert_user_error(result, *fragments)
    assert not (tmp_path / "run").exists()


def test_indicator_values_are_read_as_flags():
    frame = pd.DataFrame({"a": ["1", "0", "TRUE", "false"], "b": [0.0, 1.0, 0.0, 1.0]})
    assert indicator_sets(frame, ["a", "b"], "t.csv") == [["a"], ["b"], ["a"], ["b"]]
