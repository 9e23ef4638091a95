"""The metrics of one split, accumulated by torchmetrics across batches: accuracy,
cross-entropy and MSE for classes; MSE, MAE and R² for regression; micro- and macro-F1, subset
accuracy, Hamming loss, binary cross-entropy and each label's F1 for multi-label rows. Training logs them and
evaluate computes them with the same classes, so its numbers are metrics.json's.

Updating a metric never reads a value back to the host, so a GPU step does not wait for the GPU
(neka/bench/step_syncs.py): torchmetrics' argument checks (`validate_args`, a `torch.unique` of the
labels) and MeanMetric's NaN checks (`.any()` twice) are off, since neka's own encoding made the
labels, and a loss is averaged from its per-row values, not weighted by a Python row count that
would be copied to the device at each update."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanMetric, MeanSquaredError, Metric, R2Score
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassCalibrationError,
    MultilabelExactMatch,
    MultilabelF1Score,
    MultilabelHammingDistance,
)


class SplitMetrics(nn.Module):
    """`mse` compares softmax probabilities with the one-hot label (the Brier score / K):
    it rewards calibrated confidence, which accuracy alone does not see. `ece` is the expected
    calibration error over 15 equal-width confidence bins: how far the top class's probability is
    from the accuracy of the rows given it; validation and test only (`calibration_error`): it keeps
    every row's confidence until the epoch's end, which training's metrics, kept in checkpoints, should not."""

    def __init__(self, num_labels: int, calibration_error: bool = True):
        super().__init__()
        self.num_labels = num_labels
        self.acc = MulticlassAccuracy(num_classes=num_labels, average="micro", validate_args=False)
        self.ce = MeanMetric(nan_strategy="disable")
        self.mse = MeanSquaredError()
        self.ece = (MulticlassCalibrationError(num_labels, n_bins=15, norm="l1", validate_args=False)
                    if calibration_error else None)

    def update(self, logits: torch.Tensor, labels: torch.Tensor,
               loss_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Returns the batch's loss: cross-entropy, class-weighted when `loss_weights` are given.
        The logged `ce` stays unweighted, comparable across runs."""
        row_ce = F.cross_entropy(logits, labels, reduction="none")
        ce = row_ce.mean()
        self.acc.update(logits, labels)
        self.ce.update(row_ce.detach())
        probabilities = logits.detach().float().softmax(dim=-1)
        self.mse.update(probabilities, F.one_hot(labels, self.num_labels).float())
        if self.ece is not None:
            self.ece.update(probabilities, labels)
        return ce if loss_weights is None else F.cross_entropy(logits, labels, weight=loss_weights)

    def named(self, split: str) -> dict[str, Metric]:
        """Metric objects keyed `split/name`, for LightningModule.log_dict to compute and reset."""
        named = {f"{split}/acc": self.acc, f"{split}/ce": self.ce, f"{split}/mse": self.mse}
        return named | ({f"{split}/ece": self.ece} if self.ece is not None else {})


class RegressionMetrics(nn.Module):
    """The head has one output, the predicted value. `loss` is what training minimises."""

    def __init__(self, loss: str = "mse"):
        super().__init__()
        if loss not in ("mse", "mae"):
            raise ValueError(f"regression loss must be mse or mae, got {loss!r}")
        self.loss = loss
        self.mse = MeanSquaredError()
        self.mae = MeanAbsoluteError()
        self.r2 = R2Score()

    def update(self, outputs: torch.Tensor, targets: torch.Tensor,
               loss_weights: torch.Tensor | None = None) -> torch.Tensor:
        predictions = outputs[:, 0].float()
        targets = targets.float()
        self.mse.update(predictions.detach(), targets)
        self.mae.update(predictions.detach(), targets)
        self.r2.update(predictions.detach(), targets)
        return F.mse_loss(predictions, targets) if self.loss == "mse" else F.l1_loss(predictions, targets)

    def named(self, split: str) -> dict[str, Metric]:
        return {f"{split}/mse": self.mse, f"{split}/mae": self.mae, f"{split}/r2": self.r2}


class MultilabelMetrics(nn.Module):
    """A row's labels are predicted where the label's sigmoid probability reaches its decision
    threshold (0.5, or the run's tuned thresholds.json). `per_label_f1` is computed and logged by
    the module at the epoch's end: Lightning logs scalars, and it is one value per label."""

    def __init__(self, num_labels: int):
        super().__init__()
        self.f1_micro = MultilabelF1Score(num_labels, average="micro", validate_args=False)
        self.f1_macro = MultilabelF1Score(num_labels, average="macro", validate_args=False)
        self.subset_acc = MultilabelExactMatch(num_labels, validate_args=False)
        self.hamming = MultilabelHammingDistance(num_labels, validate_args=False)
        self.bce = MeanMetric(nan_strategy="disable")  # each row's mean over its labels
        self.per_label_f1 = MultilabelF1Score(num_labels, average=None, validate_args=False)
        self.register_buffer("thresholds", torch.full((num_labels,), 0.5), persistent=False)

    def update(self, logits: torch.Tensor, labels: torch.Tensor,
               loss_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Returns the batch's loss: binary cross-entropy, with `loss_weights` as BCE's pos_weight.
        The logged `bce` stays unweighted."""
        row_bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=1)
        self.update_probabilities(logits.detach().float().sigmoid(), labels, row_bce.detach())
        return row_bce.mean() if loss_weights is None else F.binary_cross_entropy_with_logits(logits, labels,
                                                                                   pos_weight=loss_weights)

    def update_probabilities(self, probabilities: torch.Tensor, labels: torch.Tensor,
                             row_bce: torch.Tensor | None = None) -> None:
        """Integer predictions: torchmetrics then takes them as they are, with no threshold of its own.
        `row_bce`: each row's binary cross-entropy, its mean over the labels."""
        if row_bce is None:
            row_bce = F.binary_cross_entropy(probabilities, labels, reduction="none").mean(dim=1)
        predicted, target = (probabilities >= self.thresholds).long(), labels.long()
        for metric in (self.f1_micro, self.f1_macro, self.subset_acc, self.hamming, self.per_label_f1):
            metric.update(predicted, target)
        self.bce.update(row_bce)

    def named(self, split: str) -> dict[str, Metric]:
        return {f"{split}/f1_micro": self.f1_micro, f"{split}/f1_macro": self.f1_macro,
                f"{split}/subset_acc": self.subset_acc, f"{split}/hamming": self.hamming, f"{split}/bce": self.bce}

    def label_f1(self, split: str, label_names: list[str]) -> dict[str, torch.Tensor]:
        """`split/f1_label/<name>` for every label; computes and resets the per-label F1."""
        values = self.per_label_f1.compute()
        self.per_label_f1.reset()
        return {f"{split}/f1_label/{name}": value for name, value in zip(label_names, values)}


def metrics_of_outputs(outputs: np.ndarray, targets: np.ndarray, split: str, task: str,
                       thresholds: np.ndarray | None = None, label_names: list[str] | None = None) -> dict[str, float]:
    """Keys `split_name` as in metrics.json, from what `predict_step` returns: class probabilities,
    which enter as their logarithms (logits whose softmax they are), or values, or each label's
    probability (multi-label, with its `thresholds` and `label_names`). A probability that
    float32 rounded to 0 counts as the smallest normal float, so the cross-entropy stays finite."""
    outputs = torch.from_numpy(outputs).float()
    extra: dict[str, torch.Tensor] = {}
    if task == "regression":
        metrics = RegressionMetrics()
        metrics.update(outputs, torch.from_numpy(targets).float())
    elif task == "multilabel":
        metrics = MultilabelMetrics(outputs.shape[1])
        if thresholds is not None:
            metrics.thresholds.copy_(torch.as_tensor(thresholds, dtype=torch.float32))
        metrics.update_probabilities(outputs, torch.from_numpy(targets).float())
        extra = metrics.label_f1(split, label_names or [str(index) for index in range(outputs.shape[1])])
    else:
        metrics = SplitMetrics(outputs.shape[1])
        metrics.update(outputs.clamp_min(torch.finfo(torch.float32).tiny).log(), torch.from_numpy(targets).long())
    values = {name: metric.compute() for name, metric in metrics.named(split).items()} | extra
    return {name.replace("/", "_"): float(value) for name, value in values.items()}
