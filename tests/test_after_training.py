"""evaluate, predict and export on a real trained run, through the real commands."""

import json
import shutil
import subprocess
import sys
from pathlib import PurePosixPath

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoModelForSequenceClassification, pipeline

from neka.cli.resolvers import packaged_data_path
from neka.data.tables import read_table
from neka.errors import NekaError
from neka.inference.scoring import answer_rows, encode_frame, predict_outputs_without_trainer
from neka.model.classifier import NekaClassifier, build_loss_weights
from neka.model.metrics import SplitMetrics
from neka.runs.trained import load_model, open_run

from conftest import assert_user_error, run_in_process

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REVIEWS = pd.read_csv(packaged_data_path("nsmc/test.tsv"), sep="\t").head(40)


def assert_real_png(path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000  # a drawn figure, not an empty canvas


def test_history_and_curves_are_written(tiny_run):
    run_dir, _ = tiny_run
    history = pd.read_csv(run_dir / "history.csv")
    assert list(history.columns) == ["epoch", "step", "train_acc", "train_loss", "val_acc", "val_loss", "lr"]
    assert history["epoch"].tolist() == [0] and history["step"].iloc[0] > 0
    assert_real_png(run_dir / "curves.png")


def test_evaluate_reproduces_the_test_metrics_of_training(tiny_run):
    run_dir, _ = tiny_run
    result = run_in_process(f"run_dir={run_dir}", cwd=run_dir.parent, module="neka.evaluate")
    assert result.returncode == 0, result.stderr[-3000:]
    trained = json.loads((run_dir / "metrics.json").read_text())
    evaluated = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert evaluated["test_acc"] == pytest.approx(trained["test_acc"], abs=1e-6)
    assert evaluated["test_ce"] == pytest.approx(trained["test_ce"], rel=1e-4)
    assert 0 <= evaluated["test_macro_f1"] <= 1 and evaluated["test_rows"] == 2000
    report = pd.read_csv(run_dir / "eval" / "report.csv")
    assert report["label"].astype(str).tolist() == ["0", "1"] and report["support"].sum() == 2000
    assert_real_png(run_dir / "eval" / "confusion_matrix.png")
    assert "scoring 2,000 rows of" in (run_dir / "eval" / "evaluate.log").read_text()


def test_evaluate_on_a_new_file(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    REVIEWS.to_csv(tmp_path / "fresh.csv", index=False)
    result = run_in_process(f"run_dir={run_dir}", f"data.path={tmp_path / 'fresh.csv'}", cwd=tmp_path,
                            module="neka.evaluate")
    assert result.returncode == 0, result.stderr[-3000:]
    evaluated = json.loads(next((run_dir / "eval").glob("fresh-*/metrics.json")).read_text())
    assert evaluated["eval_rows"] == 40 and evaluated["file"] == str(tmp_path / "fresh.csv")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_predict_keeps_every_row_and_the_format(tiny_run, tmp_path, suffix):
    run_dir, _ = tiny_run
    frame = REVIEWS.drop(columns=["label"])
    path = tmp_path / f"unlabelled{suffix}"
    {".csv": lambda: frame.to_csv(path, index=False),
     ".jsonl": lambda: frame.to_json(path, orient="records", lines=True, force_ascii=False),
     ".parquet": lambda: frame.to_parquet(path), ".xlsx": lambda: frame.to_excel(path, index=False)}[suffix]()
    result = run_in_process(f"run_dir={run_dir}", f"input={path}", f"output={tmp_path / ('out' + suffix)}",
                            cwd=tmp_path, module="neka.predict")
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = read_table(tmp_path / f"out{suffix}", "output")
    assert predicted["id"].tolist() == frame["id"].tolist()
    assert np.allclose(predicted["prob_0"] + predicted["prob_1"], 1, atol=1e-5)
    assert set(predicted["predicted_label"].astype(str)) <= {"0", "1"}


def test_predict_reads_stdin_and_answers_json_lines(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    REVIEWS.drop(columns=["label"]).to_csv(tmp_path / "rows.csv", index=False)
    file_result = run_in_process(f"run_dir={run_dir}", f"input={tmp_path / 'rows.csv'}", cwd=tmp_path,
                                 module="neka.predict")
    assert file_result.returncode == 0
    assert file_result.stdout == ""  # the progress bar and the "wrote" line go to stderr
    assert "wrote" in file_result.stderr and "available" not in file_result.stderr  # no "GPU available: False"
    by_file = pd.read_csv(tmp_path / "rows.predictions.csv")
    texts = REVIEWS["document"].tolist()
    lines = [*texts[:3], "", *texts[3:]]  # a blank line is the empty text, answered in its place
    piped = subprocess.run([sys.executable, "-m", "neka.predict", f"run_dir={run_dir}", "input=-"], cwd=tmp_path,
                           input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert piped.stderr == ""
    answers = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [a["text"] for a in answers] == lines
    blank = answers.pop(3)
    assert np.allclose([a["probabilities"]["1"] for a in answers], by_file["prob_1"], atol=1e-5)
    run = open_run(run_dir)
    served = predict_outputs_without_trainer(run, encode_frame(run, pd.DataFrame({"document": [""]}), "request"), 64)
    assert blank == answer_rows(run, [[""]], served)[0]  # as the server answers ""


def test_export_loads_in_transformers_and_agrees_with_predict(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    out = tmp_path / "hf"
    result = run_in_process(f"run_dir={run_dir}", f"out={out}", cwd=tmp_path, module="neka.export")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "model.safetensors").is_file()
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert model.config.id2label == {0: "0", 1: "1"}
    classifier = pipeline("text-classification", model=str(out), top_k=None)
    texts = REVIEWS["document"].tolist()
    scores = [{s["label"]: s["score"] for s in row} for row in classifier(texts, truncation=True)]
    REVIEWS[["document"]].to_csv(tmp_path / "rows.csv", index=False)
    assert run_in_process(f"run_dir={run_dir}", f"input={tmp_path / 'rows.csv'}", cwd=tmp_path,
                          module="neka.predict").returncode == 0
    neka_scores = pd.read_csv(tmp_path / "rows.predictions.csv")["prob_1"]
    assert np.allclose([s["1"] for s in scores], neka_scores, atol=1e-4)
    again = run_in_process(f"run_dir={run_dir}", f"out={out}", cwd=tmp_path, module="neka.export")
    assert_user_error(again, "not empty", "overwrite=true")
    assert not list(tmp_path.glob("*.log"))  # predict and export leave no (empty) predict.log / export.log


def test_balanced_class_weights_change_the_training_loss():
    weights = build_loss_weights("balanced", [0, 0, 0, 1], num_labels=2)
    assert weights.tolist() == pytest.approx([4 / 6, 4 / 2])
    logits, labels = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), torch.tensor([0, 0, 1])
    plain = SplitMetrics(2).update(logits, labels)
    weighted = SplitMetrics(2).update(logits, labels, weights)
    assert not torch.isclose(plain, weighted)


def test_class_weights_and_the_student_table_train_end_to_end(tmp_path):
    result = run_in_process("data=student", "model.class_weights=balanced", "trainer.max_epochs=1",
                            "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "labels.json").read_text()) == {"A": 0, "B": 1, "C": 2, "D": 3, "F": 4}
    log = (tmp_path / "run" / "train.log").read_text()
    assert "class weights: [" in log and "sample 0: [CLS] GP [SEP]" in log


def test_not_a_run_and_unreadable_checkpoint_are_one_line_errors(tiny_run, tmp_path):
    (tmp_path / "x.csv").write_text("document\n좋다\n", encoding="utf-8")  # predict checks its input first
    result = run_in_process(f"run_dir={tmp_path}", "input=x.csv", cwd=tmp_path, module="neka.predict")
    assert_user_error(result, "is not a neka run folder")
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"not a checkpoint")
    result = run_in_process(f"run_dir={tiny_run[0]}", f"ckpt={broken}", cwd=tmp_path, module="neka.evaluate")
    assert_user_error(result, "broken.ckpt is not a readable checkpoint")


def test_evaluation_labels_the_model_never_saw(tiny_run, tmp_path):
    REVIEWS.assign(label=[2] * len(REVIEWS)).to_csv(tmp_path / "unseen.csv", index=False)
    result = run_in_process(f"run_dir={tiny_run[0]}", f"data.path={tmp_path / 'unseen.csv'}", cwd=tmp_path,
                            module="neka.evaluate")
    assert_user_error(result, "labels ['2']", "never seen in training")


def test_unfinished_run_is_refused_unless_a_checkpoint_is_named(tiny_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(tiny_run[0], unfinished)
    (unfinished / "metrics.json").unlink()
    REVIEWS[["document"]].to_csv(tmp_path / "rows.csv", index=False)
    refused = run_in_process(f"run_dir={unfinished}", f"input={tmp_path / 'rows.csv'}", cwd=tmp_path,
                             module="neka.predict")
    assert_user_error(refused, "did not finish training", "ckpt=last")
    accepted = run_in_process(f"run_dir={unfinished}", f"input={tmp_path / 'rows.csv'}", "ckpt=last",
                              cwd=tmp_path, module="neka.predict")
    assert accepted.returncode == 0, accepted.stderr[-2000:]


def test_regression_trains_evaluates_predicts_and_exports(tmp_path):
    """The final grade G3 itself as the target: MSE loss, logged as mse, mae and r2."""
    result = run_in_process("data=student_grade", "trainer.max_epochs=2", "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "run"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics) == {f"{split}_{name}" for split in ("val", "test") for name in ("mse", "mae", "r2")}
    assert "val_mse" in pd.read_csv(run_dir / "history.csv").columns
    evaluated = run_in_process(f"run_dir={run_dir}", cwd=tmp_path, module="neka.evaluate")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads((run_dir / "eval" / "metrics.json").read_text())["test_mse"] == pytest.approx(
        metrics["test_mse"], rel=1e-4)
    rows = pd.read_csv(packaged_data_path("student/student-por.csv"), sep=";").head(8)
    rows.to_csv(tmp_path / "students.csv", sep=";", index=False)
    predicted = run_in_process(f"run_dir={run_dir}", f"input={tmp_path / 'students.csv'}", cwd=tmp_path,
                               module="neka.predict")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    values = pd.read_csv(tmp_path / "students.predictions.csv", sep=";")["predicted_value"]
    assert len(values) == 8 and values.between(-50, 70).all()
    exported = run_in_process(f"run_dir={run_dir}", f"out={tmp_path / 'hf'}", cwd=tmp_path, module="neka.export")
    assert exported.returncode == 0, exported.stderr[-2000:]
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "hf")
    assert model.config.problem_type == "regression" and model.config.num_labels == 1


def test_a_checkpoint_needing_unpickling_loads_only_when_trusted(tiny_run, tmp_path):
    state = torch.load(next((tiny_run[0] / "checkpoints").glob("best-*.ckpt")), weights_only=True)
    torch.save({**state, "note": PurePosixPath("made elsewhere")}, tmp_path / "pickled.ckpt")
    with pytest.raises(NekaError, match="trust_checkpoint=true"):
        load_model(tmp_path / "pickled.ckpt")
    assert isinstance(load_model(tmp_path / "pickled.ckpt", trust_checkpoint=True), NekaClassifier)
