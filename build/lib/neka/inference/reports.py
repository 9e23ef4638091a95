"""What an evaluation shows: metrics from torchmetrics, a per-class report and a confusion matrix."""

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torchmetrics.classification import (  # noqa: E402
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)
from torchmetrics.functional import mean_absolute_error, mean_squared_error, r2_score  # noqa: E402

from neka.atomic import atomic_path  # noqa: E402


def save_png_atomic(figure: Figure, path: Path, dpi: int = 120) -> None:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")


def classification_metrics(probabilities: np.ndarray, labels: np.ndarray, split: str) -> dict[str, float]:
    """Keys `split_acc`, `split_ce`, `split_mse`, `split_macro_f1` as in metrics.json."""
    probs, target = torch.tensor(probabilities).float(), torch.tensor(labels).long()
    classes = probs.shape[1]
    one_hot = F.one_hot(target, classes).float()
    return {
        f"{split}_acc": float((probs.argmax(dim=1) == target).float().mean()),
        f"{split}_ce": float(F.nll_loss(probs.clamp_min(1e-12).log(), target)),
        f"{split}_mse": float(F.mse_loss(probs, one_hot)),
        f"{split}_macro_f1": float(MulticlassF1Score(classes, average="macro")(probs, target)),
    }


def regression_metrics(values: np.ndarray, targets: np.ndarray, split: str) -> dict[str, float]:
    predictions, target = torch.tensor(values[:, 0]).float(), torch.tensor(targets).float()
    return {f"{split}_mse": float(mean_squared_error(predictions, target)),
            f"{split}_mae": float(mean_absolute_error(predictions, target)),
            f"{split}_r2": float(r2_score(predictions, target))}


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
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black")
    figure.tight_layout()
    return figure
