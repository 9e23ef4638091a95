"""Multi-label targets: each row's set of labels as a row of 0/1 values, one per label.

Two table forms are read. A label column whose cell joins the row's labels with `data.label_sep`
(`offensive|gender`; an empty cell: no label applies), or one 0/1 (true/false) column per label,
`data.label_columns`, the Kaggle and Hugging Face form. Either way the labels' ids are their
sorted names, as for single-label runs (labels.json).
"""

import logging

import numpy as np
import pandas as pd

from neka.data.labels import sort_key
from neka.errors import NekaError

log = logging.getLogger(__name__)

TRUE_VALUES = {"1", "1.0", "true"}
FALSE_VALUES = {"0", "0.0", "false"}


def label_sets(column: pd.Series, sep: str, file_name: str) -> list[list[str]]:
    """Each cell split at `sep`, blanks dropped; an empty or missing cell is the empty set."""
    if pd.api.types.is_numeric_dtype(column) and column.notna().any():
        examples = column.dropna().head(3).tolist()
        raise NekaError(f"data.label_sep: {column.name!r} in {file_name} holds numbers ({examples}), one label per "
                        f"row; set data.label_sep=null to train a single-label classifier on it")
    return [[] if pd.isna(cell) else sorted({part.strip() for part in str(cell).split(sep) if part.strip()})
            for cell in column]


def indicator_sets(frame: pd.DataFrame, columns: list[str], file_name: str) -> list[list[str]]:
    """The names of the columns holding 1 (or true) in each row."""
    flags = {}
    for column in columns:
        values = frame[column].astype(str).str.strip().str.lower()
        bad = ~values.isin(TRUE_VALUES | FALSE_VALUES)
        if bad.any():
            examples = frame[column][bad].head(3).tolist()
            raise NekaError(f"data.label_columns: {column!r} in {file_name} holds {examples}; a label column holds "
                            f"0/1 or true/false (or name the label column with data.label_column for one label "
                            f"per row)")
        flags[column] = values.isin(TRUE_VALUES).to_numpy()
    return [[column for column in columns if flags[column][row]] for row in range(len(frame))]


def build_multilabel_map(train_sets: list[list[str]], declared: list[str] | None, file_name: str) -> dict[str, int]:
    """The labels seen in training (or the declared label columns), sorted. A declared label no
    training row carries is kept, with a warning: the model can never learn to predict it."""
    seen = {label for labels in train_sets for label in labels}
    names = set(declared) if declared else seen
    if not names:
        raise NekaError(f"data.label_sep: no training row of {file_name} carries a label; check data.label_column "
                        f"and data.label_sep")
    never = sorted(names - seen)
    if never:
        log.warning("labels %s never occur in the training rows of %s: the model can never predict them", never,
                    file_name)
    return {name: index for index, name in enumerate(sorted(names, key=sort_key))}


def multi_hot(sets: list[list[str]], label_map: dict[str, int], where: str) -> np.ndarray:
    """(rows, labels) float32 0/1. Labels the map lacks (a test file naming a label training never
    saw) cannot be scored: they are left out, counted and warned about, not fatal."""
    matrix = np.zeros((len(sets), len(label_map)), dtype=np.float32)
    unknown: dict[str, int] = {}
    for row, labels in enumerate(sets):
        for label in labels:
            if label in label_map:
                matrix[row, label_map[label]] = 1.0
            else:
                unknown[label] = unknown.get(label, 0) + 1
    if unknown:
        log.warning("%s: %d label(s) never seen in training were left out (%s); the model knows %s", where,
                    sum(unknown.values()), ", ".join(f"{name!r} x{count}" for name, count in sorted(unknown.items())),
                    sorted(label_map))
    return matrix


def strata(sets: list[list[str]], index: pd.Index) -> pd.Series:
    """What a multi-label split stratifies on: each row's rarest label in the table (an empty
    string for rows with none), so rare labels reach every split; scikit-learn stratifies on
    one class per row."""
    counts: dict[str, int] = {}
    for labels in sets:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    return pd.Series([min(labels, key=lambda name: (counts[name], name)) if labels else "" for labels in sets],
                     index=index)
