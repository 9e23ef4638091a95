"""Label names to ids 0..K-1, and the labels.json that carries the map beside the model."""

import logging

import numpy as np
import pandas as pd

from neka.data.columns import cells_as_text
from neka.errors import NekaError

log = logging.getLogger(__name__)


def label_names(labels: pd.Series) -> pd.Series:
    """Labels are compared as strings, so 1 and "1" from two files are the same class (and 1.0,
    from a column pandas read as floats, too). The index is kept: splits stratify by it."""
    return pd.Series(cells_as_text(labels), index=labels.index, name=labels.name)


def build_label_map(train: pd.Series, others: list[pd.Series], file_name: str) -> dict[str, int]:
    """Sorted so ids are stable across runs (numbers numerically: 2 before 10). Labels seen
    only outside train are kept, with a warning, so evaluation cannot crash on an unknown id."""
    seen_in_train = set(train)
    if len(seen_in_train) < 2:
        raise NekaError(f"data.label_column: {file_name} has one class only ({sorted(seen_in_train)}) in its training "
                        f"rows; a classifier needs at least two labels")
    only_elsewhere = set().union(*map(set, others)) - seen_in_train if others else set()
    if only_elsewhere:
        log.warning("labels %s appear only in validation/test, never in training", sorted(only_elsewhere))
    return {name: index for index, name in enumerate(sorted(seen_in_train | only_elsewhere, key=sort_key))}


def sort_key(name: str) -> tuple[int, float, str]:
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def encode_labels(names: pd.Series, label_map: dict[str, int]):
    return names.map(label_map).to_numpy(dtype="int64")


def check_known_labels(names: pd.Series, label_map: dict[str, int], where: str) -> None:
    """A trained model has one output per label it was trained with; others cannot be scored."""
    unknown = sorted(set(names) - set(label_map))
    if unknown:
        raise NekaError(f"data.label_column: labels {unknown[:5]} in the {where} rows were never seen in training; "
                        f"the model knows {sorted(label_map)[:10]}")


def bin_labels(values: pd.Series, edges: list[float], names: list[str], file_name: str) -> pd.Series:
    """A numeric column as named classes: value v gets names[i] when edges[i] <= v < edges[i + 1]."""
    if len(names) != len(edges) - 1:
        raise NekaError(f"data.label_bins: {len(edges)} edges make {len(edges) - 1} bins but {len(names)} names "
                        f"were given")
    numbers = pd.to_numeric(values, errors="coerce")
    binned = pd.cut(numbers, bins=edges, labels=names, right=False)
    outside = binned.isna()
    if outside.any():
        first = values[outside].head(3).tolist()
        raise NekaError(f"data.label_bins: {int(outside.sum())} values of {values.name!r} in {file_name} fall outside "
                        f"the edges {edges} (first: {first}); widen data.label_bins.edges")
    return binned.astype(str)


TASKS = ("classification", "regression", "multilabel", "auto")


def resolve_task(task: str, labels: pd.Series | None, file_name: str, multilabel_key: str | None = None) -> str:
    """`auto` picks multilabel when `data.label_sep` or `data.label_columns` is set (the
    `multilabel_key` given), regression only for a numeric label column with fractional values
    or more than 20 distinct values (and says so); otherwise the labels are classes."""
    if task not in TASKS:
        raise NekaError(f"data.task: unknown task {task!r}; use one of {', '.join(TASKS)}")
    if multilabel_key and task in ("classification", "regression"):
        raise NekaError(f"{multilabel_key} is set, which reads several labels per row, but data.task={task}; set "
                        f"data.task=multilabel (or auto), or {multilabel_key}=null")
    if task == "multilabel" and not multilabel_key:
        raise NekaError("data.task=multilabel: say where the labels are: data.label_sep='|' for a label column "
                        "holding label sets, or data.label_columns=[a,b,c] for one 0/1 column per label")
    if multilabel_key:
        if task == "auto":
            log.info("data.task=auto: %s is set, so each row carries a set of labels: training a multi-label "
                     "classifier", multilabel_key)
        return "multilabel"
    if task in ("classification", "regression"):
        return task
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.notna().all() and ((numbers % 1 != 0).any() or numbers.nunique() > 20):
        log.info("data.task=auto: %r in %s holds %d distinct numbers: training a regression (set "
                 "data.task=classification to treat them as classes)", labels.name, file_name, numbers.nunique())
        return "regression"
    return "classification"


def id_column_warning(targets: np.ndarray, label_column: str) -> str | None:
    """A column of distinct whole numbers is far more often a row id than a quantity to predict;
    data.task=auto reads it as a regression target, so the run says so loudly (log and summary).
    Judged on the training targets, which the encoding cache keeps, so a cached run warns too."""
    if len(targets) < 2 or not np.all(targets % 1 == 0) or len(np.unique(targets)) < len(targets):
        return None
    return (f"data.label_column: {label_column!r} holds {len(targets)} distinct whole numbers in the training rows, "
            f"like a row id, so data.task=auto trains a regression on it; set data.task=classification or choose "
            f"another data.label_column (data.task=regression if it really is a quantity to predict)")


def regression_targets(labels: pd.Series, file_name: str):
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.isna().any():
        bad = labels[numbers.isna()].head(3).tolist()
        raise NekaError(f"data.label_column: {labels.name!r} in {file_name} has values that are not numbers "
                        f"({bad}); regression needs numbers, or set data.task=classification")
    return numbers.to_numpy(dtype="float32")
