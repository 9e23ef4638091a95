"""The metrics of one split, accumulated by torchmetrics across batches: accuracy,
cross-entropy and MSE for classes; MSE, MAE and R² for regression. Training logs them and
evaluate computes them with the same classes, so its numbers are metrics.json's."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanMetric, MeanSquaredError, Metric, R2Score
from torchmetrics.classification import MulticlassAccuracy


class SplitMetrics(nn.Module):
    """`mse` compares softmax probabilities with the one-hot label (the Brier score / K):
    it rewards calibrated confidence, which accuracy alone does not see."""

    def __init__(self, num_labels: int):
        super().__init__()
        self.num_labels = num_labels
        self.acc = MulticlassAccuracy(num_classes=num_labels, average="micro")
        self.ce = MeanMetric()
        self.mse = MeanSquaredError()

    def update(self, logits: torch.Tensor, labels: torch.Tensor,
               loss_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Returns the batch's loss: cross-entropy, class-weighted when `loss_weights` are given.
        The logged `ce` stays unweighted, comparable across runs."""
        ce = F.cross_entropy(logits, labels)
        self.acc.update(logits, labels)
        self.ce.update(ce.detach(), weight=labels.numel())
        probabilities = logits.detach().float().softmax(dim=-1)
        self.mse.update(probabilities, F.one_hot(labels, self.num_labels).float())
        return ce if loss_weights is None else F.cross_entropy(logits, labels, weight=loss_weights)

    def named(self, split: str) -> dict[str, Metric]:
        """Metric objects keyed `split/name`, for LightningModule.log_dict to compute and reset."""
        return {f"{split}/acc": self.acc, f"{split}/ce": self.ce, f"{split}/mse": self.mse}


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


def metrics_of_outputs(outputs: np.ndarray, targets: np.ndarray, split: str, is_regression: bool) -> dict[str, float]:
    """Keys `split_name` as in metrics.json, from what `predict_step` returns: class probabilities,
    which enter as their logarithms (logits whose softmax they are), or values. A probability that
    float32 rounded to 0 counts as the smallest normal float, so the cross-entropy stays finite."""
    outputs = torch.from_numpy(outputs).float()
    if is_regression:
        metrics = RegressionMetrics()
        metrics.update(outputs, torch.from_numpy(targets).float())
    else:
        metrics = SplitMetrics(outputs.shape[1])
        metrics.update(outputs.clamp_min(torch.finfo(torch.float32).tiny).log(), torch.from_numpy(targets).long())
    return {name.replace("/", "_"): float(metric.compute()) for name, metric in metrics.named(split).items()}
