"""What an evaluation shows beyond training's metrics: macro-F1, a per-class (or per-label) report
and a confusion matrix (or one 2x2 matrix per label)."""

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torchmetrics.classification import (  # noqa: E402
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
    MultilabelConfusionMatrix,
    MultilabelF1Score,
    MultilabelPrecision,
    MultilabelRecall,
)

from neka.atomic import atomic_path  # noqa: E402
from neka.inference.hangul_font import use_hangul_font  # noqa: E402

use_hangul_font()  # every figure neka draws comes through this module


def save_png_atomic(figure: Figure, path: Path, dpi: int = 120) -> None:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")


def macro_f1(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Evaluation's one metric beyond training's (neka/model/metrics.py): rare classes count as much as common ones."""
    return float(MulticlassF1Score(probabilities.shape[1], average="macro")(torch.tensor(probabilities).float(),
                                                                          torch.tensor(labels).long()))


def per_class_report(probabilities: np.ndarray, labels: np.ndarray, names: list[str]) -> pd.DataFrame:
    probs, target = torch.tensor(probabilities).float(), torch.tensor(labels).long()
    classes = len(names)
    return pd.DataFrame({
        "label": names,
        "precision": MulticlassPrecision(classes, average=None)(probs, target).numpy(),
        "recall": MulticlassRecall(classes, average=None)(probs, target).numpy(),
        "f1": MulticlassF1Score(classes, average=None)(probs, target).numpy(),
        "support": np.bincount(labels, minlength=classes),
    })


def confusion_figure(probabilities: np.ndarray, labels: np.ndarray, names: list[str]) -> Figure:
    """Rows are true labels, columns predictions, as torchmetrics counts them."""
    matrix = MulticlassConfusionMatrix(len(names))(torch.tensor(probabilities).float(),
                                                  torch.tensor(labels).long()).numpy()
    size = 2.5 + 0.6 * len(names)
    figure, axes = plt.subplots(figsize=(size, size))
    draw_matrix(axes, matrix, names)
    plt.setp(axes.get_xticklabels(), rotation=45, ha="right")
    figure.tight_layout()
    return figure


def draw_matrix(axes, matrix: np.ndarray, names: list[str]) -> None:
    """Counts in cells shaded by size; rows true, columns predicted."""
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names)
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black")


def _decisions(probabilities: np.ndarray, labels: np.ndarray, thresholds: np.ndarray) -> tuple[torch.Tensor, ...]:
    """0/1 predictions at each label's threshold, which torchmetrics then takes as they are."""
    return (torch.from_numpy(probabilities >= thresholds).long(), torch.from_numpy(labels).long())


def per_label_report(probabilities: np.ndarray, labels: np.ndarray, names: list[str],
                     thresholds: np.ndarray) -> pd.DataFrame:
    predicted, target = _decisions(probabilities, labels, thresholds)
    count = len(names)
    return pd.DataFrame({
        "label": names,
        "threshold": thresholds,
        "precision": MultilabelPrecision(count, average=None)(predicted, target).numpy(),
        "recall": MultilabelRecall(count, average=None)(predicted, target).numpy(),
        "f1": MultilabelF1Score(count, average=None)(predicted, target).numpy(),
        "support": labels.sum(axis=0).astype(np.int64),
    })


def label_confusion_figure(probabilities: np.ndarray, labels: np.ndarray, names: list[str],
                           thresholds: np.ndarray) -> Figure:
    """One 2x2 matrix per label (rows true no/yes, columns predicted no/yes), four to a row."""
    matrices = MultilabelConfusionMatrix(len(names))(*_decisions(probabilities, labels, thresholds)).numpy()
    columns = min(len(names), 4)
    rows = -(-len(names) // columns)
    figure, all_axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows), squeeze=False)
    for axes in all_axes.flat[len(names):]:
        axes.axis("off")
    for axes, name, matrix in zip(all_axes.flat, names, matrices):
        draw_matrix(axes, matrix, ["no", "yes"])
        axes.set_title(name)
    figure.tight_layout()
    return figure


def reliability_figure(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> Figure:
    """Accuracy against confidence (the top class's probability) in `bins` equal-width bins, the
    bins torchmetrics' ECE uses, with each bin's row count: bars under the diagonal are
    over-confident. Drawn by hand: torchmetrics returns the ECE, not the bins behind it."""
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    accuracy = np.bincount(index, weights=correct, minlength=bins) / np.maximum(counts, 1)
    centres = (np.arange(bins) + 0.5) / bins
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    axes.bar(centres[counts > 0], accuracy[counts > 0], width=1 / bins, edgecolor="black", label="accuracy")
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    for centre, value, count in zip(centres, accuracy, counts):
        if count:
            axes.text(centre, value + 0.01, str(count), ha="center", va="bottom", fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.08)
    axes.set_xlabel("confidence (rows per bin above the bars)")
    axes.set_ylabel("accuracy")
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure
