"""Predicting with a whole cross-validation: the mean of its fold models' probabilities (or
values, for regression), each fold encoding the rows with its own vocabulary. An ensemble of k
models trained on overlapping data is usually a little better and better calibrated than any one
of them, at k times the scoring cost."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from neka.crossval.folds import FOLDS_DIR, SUMMARY
from neka.data.truncation import describe_long_rows
from neka.errors import NekaError
from neka.inference.onnx_backend import open_backend
from neka.inference.scoring import encode_frame, predict_outputs
from neka.runs.trained import TrainedRun

log = logging.getLogger(__name__)


def open_runs(run_dir: str | Path, ckpt: str = "best", trust_checkpoint: bool = False,
              backend: str = "torch") -> list[TrainedRun]:
    """A run folder (or an ONNX export folder) as one run, or a finished cross-validation as its
    folds, in fold order, each opened with `backend` (neka/inference/onnx_backend.py)."""
    run_dir = Path(run_dir)
    folds = sorted((path for path in (run_dir / FOLDS_DIR).glob("*") if path.name.isdigit()), key=lambda p: int(p.name))
    if not folds or (run_dir / "labels.json").exists():
        return [open_backend(backend, run_dir, ckpt, trust_checkpoint)]
    if not (run_dir / SUMMARY).is_file():
        raise NekaError(f"run_dir: {run_dir} is a cross-validation that did not finish (no {SUMMARY}); continue it "
                        f"with resume={run_dir}, or use one finished fold: run_dir={folds[0]}")
    return [open_backend(backend, fold, ckpt, trust_checkpoint) for fold in folds]


def ensemble_outputs(runs: list[TrainedRun], frame: pd.DataFrame, file_name: str, batch_size: int,
                     accelerator: str, show_progress: bool = False, log_lengths: bool = False) -> np.ndarray:
    """(rows, classes) mean probabilities, or (rows, 1) mean values; one run: its own outputs.
    `log_lengths`: log how many rows are longer than the run's max_len, and what becomes of them."""
    outputs = []
    for run in runs:
        rows = encode_frame(run, frame, file_name)
        if log_lengths and not outputs:
            log.info(describe_long_rows({file_name: rows}, run.config.data.max_len, run.truncation))
        outputs.append(predict_outputs(run, rows, batch_size, accelerator, show_progress))
    return np.mean(outputs, axis=0)
