"""k-fold cross-validation (neka/crossval): fold folders, summary, out-of-fold predictions,
resume, the fold ensemble in predict, and the label-issue ranking."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neka.cli.resolvers import packaged_data_path
from neka.crossval.ensemble import open_runs
from neka.crossval.folds import split_fold
from neka.crossval.label_issues import COLUMNS, label_issue_table
from neka.crossval.oof import OutOfFold
from neka.errors import NekaError
from neka.inference.scoring import encode_frame, predict_outputs
from neka.runs.interrupt import continue_command
from neka.runs.trained import open_run

from conftest import assert_user_error, run_in_process

FOLDS = 3


def cv_arguments(table: Path) -> list[str]:
    """The encodings cached beside the table: a fold trained again gets the same vocabulary (the
    WordPiece trainer breaks ties in hash-map order), so the same metrics."""
    return ["+experiment=tiny", f"data.path={table}", "data.test_path=null", f"cv.folds={FOLDS}",
            "cv.label_issues=true", f"data.cache_dir={table.parent / 'cache'}"]


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """A finished 3-fold cross-validation of 200 reviews (20 of them the test split), 1 epoch each."""
    workdir = tmp_path_factory.mktemp("cv")
    table = workdir / "reviews.tsv"
    pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(200).to_csv(table, sep="\t", index=False)
    arguments = cv_arguments(table)
    result = run_in_process(*arguments, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mean ± std" in result.stdout
    [run_dir] = [path.parent for path in workdir.glob("outputs/*/*/cv_summary.csv")]
    return run_dir, table, arguments


def fold_positions(run_dir: Path, split: str) -> list[np.ndarray]:
    arrays = [np.load(run_dir / "cv" / str(k) / "splits.npz") for k in range(FOLDS)]
    return [array[split] for array in arrays]


def test_each_fold_is_a_run_and_every_training_row_is_predicted_once_in_order(cv_run):
    run_dir, table, _ = cv_run
    for k in range(FOLDS):
        fold = run_dir / "cv" / str(k)
        assert json.loads((fold / "metrics.json").read_text())["val_acc"] >= 0
        assert list((fold / "checkpoints").glob("best-*.ckpt")) and list((fold / "tb").rglob("events.out.*"))
        assert (fold / ".hydra" / "config.yaml").is_file() and "run complete" in (fold / "train.log").read_text()
    val, test = fold_positions(run_dir, "val"), fold_positions(run_dir, "test")
    assert all(np.array_equal(test[0], other) for other in test)  # one test split, the same in every fold
    training = np.setdiff1d(np.arange(200), test[0])
    assert np.array_equal(np.sort(np.concatenate(val)), training)  # the folds partition the training rows

    oof = pd.read_csv(run_dir / "oof_predictions.csv", keep_default_na=False)
    assert oof["row"].tolist() == training.tolist()  # every training row once, in the file's order
    original = pd.read_csv(table, sep="\t", keep_default_na=False).iloc[training]
    pd.testing.assert_frame_equal(oof[list(original.columns)], original.reset_index(drop=True))
    for k in range(FOLDS):
        assert set(oof.loc[oof["fold"] == k, "row"]) == set(val[k].tolist())
    np.testing.assert_allclose(oof[["prob_0", "prob_1"]].sum(axis=1), 1, atol=1e-5)

    summary = pd.read_csv(run_dir / "cv_summary.csv")
    assert summary["fold"].astype(str).tolist() == ["0", "1", "2", "mean", "std"]
    accuracies = [json.loads((run_dir / "cv" / str(k) / "metrics.json").read_text())["val_acc"] for k in range(3)]
    assert summary["val_acc"].tolist() == pytest.approx([*accuracies, np.mean(accuracies), np.std(accuracies, ddof=1)])

    issues = pd.read_csv(run_dir / "label_issues.csv", keep_default_na=False)
    assert list(issues.columns) == COLUMNS
    assert issues["rank"].tolist() == list(range(1, len(issues) + 1))
    assert set(issues["row"]) <= set(training.tolist())


def test_predict_on_a_cross_validation_averages_its_folds(cv_run, tmp_path):
    run_dir, _, _ = cv_run
    frame = pd.DataFrame({"document": ["정말 재밌는 영화", "시간 아깝다", "그냥 그랬다"]})
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = run_in_process(f"run_dir={run_dir}", "input=in.csv", "accelerator=cpu", cwd=tmp_path,
                            module="neka.predict")
    assert result.returncode == 0, result.stderr[-2000:]
    answered = pd.read_csv(tmp_path / "in.predictions.csv")[["prob_0", "prob_1"]].to_numpy()
    folds = [open_run(run_dir / "cv" / str(k)) for k in range(FOLDS)]
    each = [predict_outputs(run, encode_frame(run, frame, "in.csv"), 64, "cpu") for run in folds]
    np.testing.assert_allclose(answered, np.mean(each, axis=0), atol=1e-6)
    # the folds are different models, so the mean is not any one (calibration flattens these tiny folds'
    # probabilities to within 1e-6 of 0.5, hence an absolute tolerance below that)
    assert not np.allclose(each[0], each[1], rtol=0, atol=1e-7)
    assert [run.run_dir for run in open_runs(run_dir)] == [run.run_dir for run in folds]


def test_a_killed_cross_validation_resumes_with_the_folds_not_finished(cv_run, tmp_path):
    """The last fold killed before its first checkpoint: resume keeps folds 0 and 1 as they are
    and trains fold 2 again, to the metrics the uninterrupted cross-validation got."""
    finished, table, arguments = cv_run
    run_dir = tmp_path / "outputs" / "killed"
    shutil.copytree(finished, run_dir)
    for name in ("cv_summary.csv", "oof_predictions.csv", "label_issues.csv"):
        (run_dir / name).unlink()
    for path in (run_dir / "cv" / "2").iterdir():
        if path.name not in (".hydra", "train.log"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    kept = {k: (run_dir / "cv" / str(k) / "metrics.json").stat().st_mtime_ns for k in (0, 1)}
    result = run_in_process(*arguments, f"resume={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {k: (run_dir / "cv" / str(k) / "metrics.json").stat().st_mtime_ns for k in (0, 1)} == kept
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "cv_summary.csv").drop(columns="run_dir"),
                                  pd.read_csv(finished / "cv_summary.csv").drop(columns="run_dir"))
    assert (run_dir / "oof_predictions.csv").read_text() == (finished / "oof_predictions.csv").read_text()
    assert_user_error(run_in_process(*arguments, f"resume={run_dir}", cwd=tmp_path), "already finished",
                      "cv_summary.csv")


@pytest.mark.parametrize("arguments, fragments", [
    (["data.val_path={table}"], ["cv.folds", "data.val_path"]),
    (["cv.folds=1"], ["cv.folds: must be a whole number of at least 2, got 1"]),
    (["cv.folds=null"], ["cv.label_issues=true needs cv.folds"]),
    (["cv.folds=null", "cv.label_issues=false", "cv.fold=1"], ["cv.fold=1 needs cv.folds"]),
])
def test_cross_validation_mistakes_are_one_line_and_leave_no_folder(tmp_path, arguments, fragments):
    table = tmp_path / "reviews.tsv"
    pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(40).to_csv(table, sep="\t", index=False)
    result = run_in_process(*cv_arguments(table), *(a.format(table=table) for a in arguments), cwd=tmp_path)
    assert_user_error(result, *fragments)
    assert not list(tmp_path.glob("outputs/*/*"))


def test_folds_are_stratified_seeded_and_independent_of_row_order():
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(30)], "label": ["a"] * 20 + ["b"] * 10})
    folds = [split_fold(frame, frame["label"], k, 5, seed=7) for k in range(5)]
    assert sorted(i for _, val in folds for i in val.index) == list(range(30))
    assert all(val["label"].value_counts().to_dict() == {"a": 4, "b": 2} for _, val in folds)
    shuffled = frame.sample(frac=1, random_state=1)
    assert split_fold(shuffled, shuffled["label"], 2, 5, seed=7)[1].index.tolist() == folds[2][1].index.tolist()
    assert split_fold(frame, frame["label"], 2, 5, seed=8)[1].index.tolist() != folds[2][1].index.tolist()
    with pytest.raises(NekaError, match="cv.folds"):
        split_fold(frame, frame["label"], 0, 31, seed=7)


def test_planted_flips_rank_first_with_the_confidence_in_the_given_label():
    """Out-of-fold probabilities that believe the true class (0.9) of 40 rows; 4 of them carry the
    other label: those 4 are the issues, least believable first."""
    rng = np.random.default_rng(0)
    true = np.array([0, 1] * 20)
    believed = np.where(true == 1, 0.9, 0.1) + rng.uniform(-0.05, 0.05, size=40)
    outputs = np.column_stack([1 - believed, believed])
    given = true.copy()
    flipped = [3, 10, 25, 38]
    given[flipped] = 1 - given[flipped]
    frame = pd.DataFrame({"document": [f"review {i}" for i in range(40)]}, index=np.arange(100, 140))
    issues = label_issue_table(OutOfFold(frame, given, outputs, ["neg", "pos"], ["document"], False))
    assert list(issues.columns) == COLUMNS
    assert sorted(issues["row"]) == [100 + i for i in flipped]
    assert issues["given_label_probability"].is_monotonic_increasing
    first = issues.iloc[0]
    assert first["text"] == f"review {first['row'] - 100}"
    assert first["suggested_label"] != first["given_label"]
    assert first["given_label_probability"] == pytest.approx(outputs[first["row"] - 100, given[first["row"] - 100]],
                                                             abs=1e-6)


def test_folds_swept_as_jobs_make_one_cross_validation(tmp_path):
    """-m cv.fold=0,1: each fold a job in <sweep>/cv/<fold>/ (hydra/launcher=joblib runs them side
    by side; the basic launcher here runs them in turn), and the sweep's end writes the files of the
    whole cross-validation."""
    table = tmp_path / "reviews.tsv"
    pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(60).to_csv(table, sep="\t", index=False)
    arguments = [a for a in cv_arguments(table) if not a.startswith(("cv.folds", "cv.label_issues"))]
    result = run_in_process("-m", *arguments, "cv.folds=2", "cv.fold=0,1", "hydra.sweep.dir=sweep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = tmp_path / "sweep"
    assert all((sweep / "cv" / str(k) / "metrics.json").is_file() for k in (0, 1))
    assert pd.read_csv(sweep / "cv_summary.csv")["fold"].astype(str).tolist() == ["0", "1", "mean", "std"]
    assert len(pd.read_csv(sweep / "oof_predictions.csv")) == 54  # 60 rows less the test split's 6
    assert len(pd.read_csv(sweep / "summary.csv")) == 2  # the sweep's own table lists the two fold jobs


def test_ctrl_c_in_a_fold_names_the_cross_validation_to_resume(tmp_path, monkeypatch):
    run_dir = tmp_path / "outputs" / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text("- cv.folds=3\n")
    (run_dir / "cv" / "1").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert continue_command(run_dir / "cv" / "1", ["cv.folds=3"]) == \
        "python -m neka.train cv.folds=3 resume=outputs/run"
