"""Temperature scaling (Guo et al., 2017): after training, one scalar T fitted on the validation
split so that softmax(logits / T) minimises its cross-entropy. The argmax, so accuracy, cannot
change; cross-entropy and calibration error can. The run keeps T in calibration.json, with the
validation and test figures before and after, and every command that opens the run applies it.

Fitted here by LBFGS on log T (T stays positive), as the paper does: torch and torchmetrics
measure calibration but do not fit it. The validation probabilities stand in for the logits:
log-softmax differs from the logits by a per-row constant, which softmax ignores, also after
dividing by T.
"""

import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_lightning.utilities import rank_zero_only

from neka.runs.files import write_json_atomic

log = logging.getLogger(__name__)

FILE_NAME = "calibration.json"


def log_probabilities(probabilities: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(probabilities).double().clamp_min(torch.finfo(torch.float32).tiny).log()


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T minimising the cross-entropy of softmax(log p / T) on these rows."""
    logits, targets = log_probabilities(probabilities), torch.from_numpy(labels).long()
    log_temperature = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_temperature], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_temperature.exp(), targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_temperature.detach().exp())


def rescale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities the model gives once its logits are divided by `temperature`."""
    return (log_probabilities(probabilities) / temperature).softmax(dim=-1).float().numpy()


@rank_zero_only
def save_calibration(run_dir: Path, record: dict) -> None:
    write_json_atomic(run_dir / FILE_NAME, record)


def load_temperature(run_dir: Path) -> float:
    """1 (no scaling) for runs without calibration.json."""
    path = run_dir / FILE_NAME
    return float(json.loads(path.read_text(encoding="utf-8"))["temperature"]) if path.is_file() else 1.0


def calibrate(model, data, run_dir: Path) -> dict:
    """Fits T on the validation split of a fitted single-label `model` (the best weights loaded),
    sets it on the model for the metrics that follow and writes calibration.json: T, and the
    validation and test cross-entropy and ECE before and after."""
    from neka.inference.scoring import model_outputs  # scoring opens runs, whose module imports this one
    from neka.model.metrics import metrics_of_outputs

    model.temperature.fill_(1.0)
    outputs = {split: model_outputs(model, data.encoded[split], data.pad_id, data.batch_size, model.device)
               for split in ("val", "test")}
    temperature = fit_temperature(outputs["val"], data.encoded["val"].labels)
    record = {"method": "temperature", "temperature": temperature, "fitted_on": "val"}
    for split, probabilities in outputs.items():
        labels = data.encoded[split].labels
        before = metrics_of_outputs(probabilities, labels, split, "classification")
        after = metrics_of_outputs(rescale(probabilities, temperature), labels, split, "classification")
        for name in ("ce", "ece"):
            record[f"{split}_{name}_before"] = before[f"{split}_{name}"]
            record[f"{split}_{name}_after"] = after[f"{split}_{name}"]
    model.temperature.fill_(temperature)
    save_calibration(run_dir, record)
    log.info("calibration: temperature %.4f fitted on the validation split; %s", temperature,
             ", ".join(f"{name} {value:.4f}" for name, value in record.items() if name.startswith(("val", "test"))))
    return record


def describe(record: dict) -> str:
    """The summary's line."""
    return (f"calibration: temperature {record['temperature']:.3f} fitted on val; test ECE "
            f"{record['test_ece_before']:.4f} -> {record['test_ece_after']:.4f}, cross-entropy "
            f"{record['test_ce_before']:.4f} -> {record['test_ce_after']:.4f} (model.calibration=null: off)")
