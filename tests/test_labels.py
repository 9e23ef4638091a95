import logging
from functools import partial

import numpy as np
import pandas as pd
import pytest

from neka.data.datamodule import NekaDataModule
from neka.data.labels import (
    bin_labels,
    build_label_map,
    encode_labels,
    id_column_warning,
    label_names,
    regression_targets,
    resolve_task,
)
from neka.errors import NekaError
from neka.runs.summary import format_summary
from neka.tokenization.loading import load_tokenizer


def test_letters_map_to_sorted_ids():
    names = label_names(pd.Series(["C", "A", "B", "A"]))
    label_map = build_label_map(names, [], "g.csv")
    assert label_map == {"A": 0, "B": 1, "C": 2}
    assert encode_labels(names, label_map).tolist() == [2, 0, 1, 0]


def test_numbers_sort_numerically_and_match_across_files():
    label_map = build_label_map(label_names(pd.Series([10, 2, 1])), [label_names(pd.Series([2.0, 10.0]))], "n.csv")
    assert label_map == {"1": 0, "2": 1, "10": 2}


def test_one_class_is_an_error():
    with pytest.raises(NekaError, match=r"one class only \(\['1'\]\)"):
        build_label_map(label_names(pd.Series([1, 1, 1])), [], "r.csv")


def test_label_only_in_test_is_kept_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        label_map = build_label_map(pd.Series(["a", "b"]), [pd.Series(["c"])], "r.csv")
    assert label_map == {"a": 0, "b": 1, "c": 2}
    assert "only in validation/test" in caplog.text


def test_task_auto_detects_regression_only_for_many_or_fractional_numbers():
    assert resolve_task("auto", pd.Series(range(30)), "g.csv") == "regression"
    assert resolve_task("auto", pd.Series([1.5, 2.0, 3.0]), "g.csv") == "regression"
    assert resolve_task("auto", pd.Series([0, 1, 2, 6] * 5), "g.csv") == "classification"
    assert resolve_task("auto", pd.Series(["A", "B"]), "g.csv") == "classification"
    with pytest.raises(NekaError, match="data.task: unknown task 'ranking'"):
        resolve_task("ranking", pd.Series([1]), "g.csv")


def test_regression_targets_must_be_numbers():
    assert regression_targets(pd.Series([1, 2.5], name="G3"), "g.csv").tolist() == [1.0, 2.5]
    with pytest.raises(NekaError, match=r"'G3' in g.csv has values that are not numbers \(\['x'\]\)"):
        regression_targets(pd.Series([1, "x"], name="G3"), "g.csv")


def test_numeric_grades_bin_into_named_classes():
    grades = pd.Series([0, 9, 10, 15, 16, 20], name="G3")
    assert bin_labels(grades, [0, 10, 12, 14, 16, 21], list("FDCBA"), "s.csv").tolist() == list("FFDBAA")
    with pytest.raises(NekaError, match="1 values of 'G3' in s.csv fall outside"):
        bin_labels(pd.Series([25], name="G3"), [0, 10, 21], ["F", "P"], "s.csv")


def test_distinct_whole_numbers_are_flagged_as_a_likely_id():
    assert "data.task=classification" in id_column_warning(np.arange(40, dtype="float32"), "id")
    assert id_column_warning(np.array([1.0, 2.0, 2.0]), "id") is None      # repeated values: a quantity
    assert id_column_warning(np.array([1.5, 2.0, 3.0]), "price") is None   # fractions: a quantity


@pytest.mark.parametrize("task", ["auto", "regression"])
def test_an_id_column_guessed_as_a_regression_warns_in_log_and_summary(task, tmp_path, caplog):
    frame = pd.DataFrame({"document": ["좋은 영화", "별로다", "최고", "지루해"] * 15, "id": range(1000, 1060)})
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    tokenizer = partial(load_tokenizer, "wordpiece", min_frequency=1)
    data = NekaDataModule(str(tmp_path / "reviews.csv"), "id", tokenizer, task=task)
    with caplog.at_level(logging.WARNING):
        data.setup("fit")
    assert data.is_regression
    if task == "regression":  # asked for: no warning
        assert data.label_warning is None and not caplog.records
        return
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "'id' holds 48 distinct whole numbers" in record.getMessage()
    assert "set data.task=classification or choose another data.label_column" in record.getMessage()
    summary = format_summary({"val/mse": 1.0}, tmp_path, None, {"train": 48}, "regression", 1000,
                             warnings=[data.label_warning])
    assert summary.splitlines()[-1] == f"warning: {data.label_warning}"
