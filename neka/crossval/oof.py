"""Out-of-fold predictions: every training row scored by the one fold model that did not train
on it, read back from the fold run folders (their recorded validation rows and best checkpoints),
so a resumed cross-validation gets them for folds finished before the kill too."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neka.data.split_record import check_unchanged, load_recorded_split
from neka.evaluate import run_data
from neka.inference.scoring import predict_outputs
from neka.predict import add_predictions
from neka.runs.trained import open_run


@dataclass
class OutOfFold:
    frame: pd.DataFrame  # own columns in file order; row (position in the file), fold, predicted_label, prob_<label>
    given: np.ndarray  # each row's class id as trained on (after data.label_bins), or its target for regression
    outputs: np.ndarray  # (rows, classes) probabilities, or (rows, 1) values for regression
    label_names: list[str]
    input_columns: list[str]
    is_regression: bool


def predict_out_of_fold(fold_dirs: list[Path], batch_size: int, accelerator: str) -> OutOfFold:
    """The folds' validation rows together are the training rows, each once; they come back in
    file order (their positions in data.path)."""
    frames, given, outputs, label_maps = [], [], [], []
    for index, fold_dir in enumerate(fold_dirs):
        run, recorded = open_run(fold_dir), load_recorded_split(fold_dir, "val")
        label_maps.append(run.label_map)
        check_unchanged(recorded, "val")
        rows = run_data(run).encode_rows_at(str(recorded.path), recorded.key, recorded.positions, "val")
        frames.append(run.read_table(recorded.path, "data.path").loc[recorded.positions]
                      .assign(row=recorded.positions, fold=index))
        given.append(rows.labels)
        outputs.append(predict_outputs(run, rows, batch_size, accelerator))
    if any(label_map != label_maps[0] for label_map in label_maps):  # each fold builds it from every split's rows
        raise RuntimeError(f"the folds {[str(d) for d in fold_dirs]} have different label maps: {label_maps}")
    frame = pd.concat(frames)
    order = np.argsort(frame.index.to_numpy(), kind="stable")
    outputs = np.concatenate(outputs)[order]
    frame = add_predictions(run, frame.iloc[order], outputs)
    return OutOfFold(frame, np.concatenate(given)[order], outputs, run.label_names, run.input_columns,
                     run.is_regression)
