"""A multi-label run's decision thresholds: one per label, in thresholds.json beside labels.json,
which evaluate, predict, serve and export all apply.

`model.thresholds=tune` picks each label's threshold on the validation split, where that label's
F1 is highest, from torchmetrics' precision-recall curve on a grid of 99 thresholds (0.01 ...
0.99): the grid keeps the choice from landing exactly on one validation row's probability.
"""

import json
import logging
from pathlib import Path

import numpy as np
import torch
from pytorch_lightning.utilities import rank_zero_only
from torchmetrics.classification import MultilabelPrecisionRecallCurve

from neka.runs.files import write_json_atomic

log = logging.getLogger(__name__)

FILE_NAME = "thresholds.json"
GRID = torch.linspace(0.01, 0.99, 99)


def tune_thresholds(probabilities: np.ndarray, labels: np.ndarray, label_names: list[str]) -> list[float]:
    """Each label's F1-maximising threshold on these rows (0.5 for a label they never carry:
    there is nothing to tune it on)."""
    curve = MultilabelPrecisionRecallCurve(probabilities.shape[1], thresholds=GRID.clone())
    precision, recall, grid = curve(torch.from_numpy(probabilities).float(), torch.from_numpy(labels).long())
    precision, recall = precision[:, :-1], recall[:, :-1]  # the curve's last point has no threshold
    # a threshold above every probability predicts nothing: precision 0/0, which the curve leaves NaN
    f1 = (2 * precision * recall / (precision + recall).clamp_min(1e-12)).nan_to_num(0.0)
    chosen = []
    for index, name in enumerate(label_names):
        if labels[:, index].sum() == 0:
            log.warning("model.thresholds=tune: no validation row carries %r; its threshold stays 0.5", name)
            chosen.append(0.5)
            continue
        best = int(f1[index].argmax())
        chosen.append(round(float(grid[best]), 2))
        log.info("threshold for %r: %.2f (validation F1 %.4f)", name, chosen[-1], float(f1[index, best]))
    return chosen


@rank_zero_only
def save_thresholds(run_dir: Path, label_names: list[str], thresholds: list[float]) -> None:
    write_json_atomic(run_dir / FILE_NAME, dict(zip(label_names, thresholds)))


def load_thresholds(run_dir: Path, label_names: list[str]) -> np.ndarray:
    """In label id order; 0.5 for a run that has no thresholds.json."""
    path = run_dir / FILE_NAME
    saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return np.array([saved.get(name, 0.5) for name in label_names], dtype=np.float64)  # as written: 0.01, not 0.00999
