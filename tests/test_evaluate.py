"""evaluate scores exactly the rows a run recorded as its test split, each evaluated file in a
folder of its own, and creates nothing for a run folder that does not exist."""

import hashlib
import json
import logging
import re
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neka.cli.configs import compose_config, config_dir
from neka.cli.resolvers import packaged_data_path
from neka.data.datamodule import NekaDataModule
from neka.errors import NekaError
from neka.evaluate import run_evaluation
from neka.tokenization.loading import load_tokenizer

from conftest import assert_user_error, run_in_process

CONF = config_dir()
REVIEWS = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(400)
EMPTY_ROWS = [5, 17, 123]  # empty reviews, dropped by data.drop_missing=true before sampling


def with_empty_reviews(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(document=["" if i in EMPTY_ROWS else text for i, text in enumerate(frame["document"])])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compose_evaluate(*overrides: str):
    return compose_config("evaluate", overrides)


@pytest.fixture(scope="module")
def carved_run(tmp_path_factory) -> tuple[Path, Path, str]:
    """Test and val carved out of a sample of reviews.csv, named by a path relative to the
    folder training ran in."""
    workdir = tmp_path_factory.mktemp("carved")
    with_empty_reviews(REVIEWS).to_csv(workdir / "reviews.csv", index=False)
    result = run_in_process("+experiment=tiny", "data.path=reviews.csv", "data.test_path=null", "data.max_rows=300",
                            "data.drop_missing=true", "hydra.run.dir=run", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "run", workdir / "reviews.csv", result.stdout


def test_evaluate_scores_the_recorded_test_rows_from_another_folder(carved_run, tmp_path, monkeypatch, caplog):
    run_dir, table, stdout = carved_run
    record = json.loads((run_dir / "splits.json").read_text())
    assert record["files"]["data.path"] == {"path": str(table), "bytes": table.stat().st_size,
                                            "sha256": sha256(table)}
    assert {split: entry["file"] for split, entry in record["splits"].items()} == dict.fromkeys(
        ["train", "val", "test"], "data.path")
    with np.load(run_dir / "splits.npz") as arrays:
        positions = {split: arrays[split] for split in ("train", "val", "test")}
    assert [len(p) for p in positions.values()] == [240, 30, 30]
    every = np.concatenate(list(positions.values()))
    assert len(set(every)) == 300 and set(every) <= set(range(400)) - set(EMPTY_ROWS)
    assert "data: train 240 rows from reviews.csv; val 30 rows carved from reviews.csv; test 30 rows carved " \
           "from reviews.csv" in stdout
    assert "rows: train 240 from reviews.csv, val 30 carved from reviews.csv, test 30 carved from reviews.csv; " \
           "2 classes" in (run_dir / "train.log").read_text()

    monkeypatch.chdir(tmp_path)  # where the run's relative data.path=reviews.csv names no file
    caplog.set_level(logging.INFO, logger="neka.evaluate")
    metrics, out_dir = run_evaluation(compose_evaluate(f"run_dir={run_dir}"))
    assert out_dir == run_dir / "eval"
    trained = json.loads((run_dir / "metrics.json").read_text())
    evaluated = json.loads((out_dir / "metrics.json").read_text())
    assert evaluated["test_acc"] == pytest.approx(trained["test_acc"], abs=1e-6)
    assert evaluated["test_ce"] == pytest.approx(trained["test_ce"], rel=1e-4)
    assert (evaluated["test_rows"], evaluated["file"], evaluated["sha256"]) == (30, str(table), sha256(table))
    assert "scoring 30 rows of" in (out_dir / "evaluate.log").read_text()


def test_evaluate_refuses_a_changed_file(carved_run):
    run_dir, table, _ = carved_run
    original = table.read_bytes()
    try:
        pd.read_csv(table).sample(frac=1, random_state=0).to_csv(table, index=False)  # the same rows, shuffled
        with pytest.raises(NekaError, match=f"changed since training .* pass data.path={re.escape(str(table))}$"):
            run_evaluation(compose_evaluate(f"run_dir={run_dir}"))
    finally:
        table.write_bytes(original)


def test_a_run_without_a_split_record_is_split_again_with_a_warning(carved_run, tmp_path, monkeypatch, caplog):
    run_dir, table, _ = carved_run
    older = tmp_path / "older"
    shutil.copytree(run_dir, older, ignore=shutil.ignore_patterns("eval", "tb", "splits.*"))
    monkeypatch.chdir(table.parent)  # such a run finds a relative data.path only from where it trained
    with caplog.at_level(logging.WARNING, logger="neka.evaluate"):
        metrics, _ = run_evaluation(compose_evaluate(f"run_dir={older}"))
    assert "has no splits.json" in caplog.text
    assert metrics["test_acc"] == pytest.approx(json.loads((older / "metrics.json").read_text())["test_acc"], abs=1e-6)


def test_each_evaluated_file_keeps_its_own_folder(carved_run, tmp_path):
    run_dir, _, _ = carved_run
    results = {}
    for name, rows in (("a", 20), ("b", 30)):
        (tmp_path / name).mkdir()
        path = tmp_path / name / "test.csv"
        REVIEWS.tail(rows).to_csv(path, index=False)
        _, out_dir = run_evaluation(compose_evaluate(f"run_dir={run_dir}", f"data.path={path}"))
        results[path] = out_dir
    first, second = results.values()
    assert first != second and first.parent == second.parent == run_dir / "eval"
    for path, out_dir in results.items():
        assert out_dir.name == f"test-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
        evaluated = json.loads((out_dir / "metrics.json").read_text())
        assert (evaluated["file"], evaluated["sha256"]) == (str(path), sha256(path))
        assert evaluated["eval_rows"] == len(pd.read_csv(path))


def test_a_new_file_is_read_with_the_encoding_given(carved_run, tmp_path):
    run_dir, _, _ = carved_run
    encodable = [text.encode("cp949", errors="ignore").decode("cp949") == text for text in REVIEWS["document"]]
    REVIEWS[encodable].head(30).to_csv(tmp_path / "cp949.csv", index=False, encoding="cp949")
    metrics, out_dir = run_evaluation(compose_evaluate(f"run_dir={run_dir}", f"data.path={tmp_path / 'cp949.csv'}",
                                                       "data.encoding=cp949"))
    assert json.loads((out_dir / "metrics.json").read_text())["eval_rows"] == 30 and 0 <= metrics["eval_acc"] <= 1


def test_a_run_folder_that_does_not_exist_is_named_and_nothing_is_created(tmp_path):
    result = run_in_process("run_dir=outputs/nope", cwd=tmp_path, module="neka.evaluate")
    assert_user_error(result, "run_dir: outputs/nope does not exist")
    assert not list(tmp_path.iterdir())


def test_split_positions_name_each_splits_rows_also_when_cached(tmp_path):
    """What train records: each split's rows by their positions in the file, after sampling and
    dropping empty rows; an encoding read back from the cache carries the same."""
    table = tmp_path / "reviews.tsv"
    with_empty_reviews(REVIEWS).head(200).to_csv(table, sep="\t", index=False)
    settings = {"kind": "wordpiece", "vocab_size": 1000}
    modules = []
    for _ in range(2):  # the second reads the first one's cache entry
        data = NekaDataModule(str(table), "label", partial(load_tokenizer, **settings), text_columns=["document"],
                              max_rows=150, drop_missing=True, cache_dir=str(tmp_path / "cache"),
                              tokenizer_settings=settings)
        data.setup("fit")
        modules.append(data)
    first, cached = modules
    every = np.concatenate(list(first.split_positions.values()))
    assert len(set(every)) == 150 and not set(every) & set(EMPTY_ROWS) and max(every) < 200
    for split in ("train", "val", "test"):
        assert np.array_equal(cached.split_positions[split], first.split_positions[split])
        again = first.encode_rows_at(str(table), "data.path", first.split_positions[split], split)
        assert np.array_equal(again.token_ids, first.encoded[split].token_ids)
        assert np.array_equal(again.labels, first.encoded[split].labels)

