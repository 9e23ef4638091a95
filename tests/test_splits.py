import logging

import pandas as pd
import pytest

from neka.data.splits import check_split_sizes, sample_rows, split_holdout
from neka.errors import NekaError


def _frame(count=200, positive_share=0.25):
    labels = [1 if i < count * positive_share else 0 for i in range(count)]
    return pd.DataFrame({"text": [f"t{i}" for i in range(count)], "label": labels})


def test_same_seed_same_split_other_seed_other_split():
    frame = _frame()
    first = split_holdout(frame, frame["label"], 0.2, 7, "data.test_size")[1]
    again = split_holdout(frame, frame["label"], 0.2, 7, "data.test_size")[1]
    other = split_holdout(frame, frame["label"], 0.2, 8, "data.test_size")[1]
    assert first.index.tolist() == again.index.tolist()
    assert first.index.tolist() != other.index.tolist()


def test_split_is_stratified_and_disjoint():
    frame = _frame()
    rest, holdout = split_holdout(frame, frame["label"], 0.2, 0, "data.test_size")
    assert len(holdout) == 40 and (holdout["label"] == 1).sum() == 10  # 25 % of 40
    assert set(rest.index).isdisjoint(holdout.index) and len(rest) + len(holdout) == 200


def test_falls_back_to_random_when_a_class_is_too_small(caplog):
    frame = pd.DataFrame({"text": list("abcdefghij"), "label": [0] * 9 + [1]})
    with caplog.at_level(logging.WARNING):
        rest, holdout = split_holdout(frame, frame["label"], 0.2, 0, "data.val_size")
    assert len(holdout) == 2 and "not stratified" in caplog.text


def test_sample_rows_is_seeded():
    frame = _frame()
    assert sample_rows(frame, 50, 3).index.tolist() == sample_rows(frame, 50, 3).index.tolist()
    assert len(sample_rows(frame, 500, 3)) == 200


@pytest.mark.parametrize("val, test", [(0.5, 0.5), (1.0, 0.0), (-0.1, 0.1)])
def test_impossible_split_sizes_are_refused(val, test):
    with pytest.raises(NekaError, match="data.val_size"):
        check_split_sizes(val, test)


def test_holdout_that_would_be_empty_is_refused():
    frame = _frame(count=5)
    with pytest.raises(NekaError, match="data.val_size: 0.01 of 5 rows leaves an empty split"):
        split_holdout(frame, frame["label"], 0.01, 0, "data.val_size")
