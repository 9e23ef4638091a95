import logging

import pandas as pd
import pytest

from neka.errors import NekaError
from neka.labels import build_label_map, encode_labels, label_names


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
