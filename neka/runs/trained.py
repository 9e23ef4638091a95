"""Opening a finished run folder: its config, label map, tokenizer and a checkpoint's model.

Checkpoints are read with `weights_only=True` (no pickled code runs), and the encoder is
rebuilt from the config stored in the checkpoint, so a run opens offline wherever it was
trained.
"""

import json
import logging
import pickle
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf
from transformers import PretrainedConfig

from neka.data.tables import read_table
from neka.data.truncation import Truncation
from neka.errors import NekaError, one_line
from neka.model.classifier import NekaClassifier
from neka.runs.calibration import load_temperature
from neka.runs.thresholds import load_thresholds
from neka.tokenization.interface import NekaTokenizer
from neka.tokenization.loading import load_saved_tokenizer

log = logging.getLogger(__name__)


@dataclass
class TrainedRun:
    run_dir: Path
    config: DictConfig  # the run's own .hydra/config.yaml
    label_map: dict[str, int]
    tokenizer: NekaTokenizer
    model: NekaClassifier
    checkpoint: Path

    @property
    def label_names(self) -> list[str]:
        return sorted(self.label_map, key=self.label_map.get)

    @property
    def encoder_config(self) -> PretrainedConfig:
        return self.model.encoder.config

    @cached_property
    def inputs(self) -> dict:
        """inputs.json, written by train: input columns in order, label column, task. Read once:
        the server asks for the task on every request."""
        return json.loads((self.run_dir / "inputs.json").read_text(encoding="utf-8"))

    @property
    def input_columns(self) -> list[str]:
        return self.inputs["input_columns"]

    @property
    def task(self) -> str:
        return self.inputs.get("task", "classification")

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def is_multilabel(self) -> bool:
        return self.task == "multilabel"

    @cached_property
    def thresholds(self) -> np.ndarray:
        """A multi-label run's decision threshold per label, in label id order (thresholds.json, read once)."""
        return load_thresholds(self.run_dir, self.label_names)

    @property
    def label_sep(self) -> str:
        """What joins a multi-label row's predicted labels: the training table's separator, else |."""
        return self.inputs.get("label_sep") or "|"

    def predicted_labels(self, probabilities: np.ndarray) -> list[list[str]]:
        """Each multi-label row's labels that reach their threshold, in label id order."""
        names, chosen = self.label_names, probabilities >= self.thresholds
        return [[names[index] for index in np.flatnonzero(row)] for row in chosen]

    @property
    def truncation(self) -> Truncation:
        """How the run cut rows longer than max_len: rows are scored cut the same way (runs from
        before data.truncation existed cut at the head)."""
        data = self.config.data
        return Truncation(data.get("truncation", "head"), data.get("window_stride"),
                          data.get("window_aggregation", "mean"))

    def table_options(self, encoding: str | None = None, sep: str | None = None,
                      has_header: bool | None = None) -> dict:
        """`read_table`'s settings: those given, and for each None the training table's."""
        data = self.config.data
        return {"encoding": encoding if encoding is not None else data.get("encoding", "utf-8"),
                "sep": sep if sep is not None else data.get("sep"),
                "has_header": has_header if has_header is not None else data.get("has_header", True)}

    def read_table(self, path: Path, key: str, encoding: str | None = None, sep: str | None = None,
                   has_header: bool | None = None) -> pd.DataFrame:
        """A table read with the settings given, None meaning as the training table was read."""
        return read_table(path, key, **self.table_options(encoding, sep, has_header))


def open_run(run_dir: str | Path, ckpt: str = "best", trust_checkpoint: bool = False) -> TrainedRun:
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise NekaError(f"run_dir: {run_dir} does not exist; give a folder under outputs/ made by python -m neka.train")
    required = [".hydra/config.yaml", "labels.json", "inputs.json", "vocab"]
    if not run_dir.is_dir() or not all((run_dir / name).exists() for name in required):
        raise NekaError(f"run_dir: {run_dir} is not a neka run folder (it needs {', '.join(required)}); give a "
                        f"folder under outputs/ made by python -m neka.train")
    if not (run_dir / "metrics.json").is_file():
        if ckpt == "best":
            raise NekaError(f"run_dir: {run_dir} did not finish training (no metrics.json); pass ckpt=last or "
                            f"ckpt=PATH to use its checkpoints anyway")
        log.warning("%s did not finish training (no metrics.json); using %s", run_dir, ckpt)
    checkpoint = find_checkpoint(run_dir, ckpt)
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    label_map = json.loads((run_dir / "labels.json").read_text(encoding="utf-8"))
    model = load_model(checkpoint, trust_checkpoint)
    model.temperature.fill_(load_temperature(run_dir))  # 1 unless training calibrated the run
    return TrainedRun(run_dir, config, label_map, load_saved_tokenizer(run_dir / "vocab"), model, checkpoint)


def find_checkpoint(run_dir: Path, ckpt: str) -> Path:
    if ckpt == "best":
        found = sorted((run_dir / "checkpoints").glob("best-*.ckpt"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise NekaError(f"ckpt=best: no best-*.ckpt in {run_dir / 'checkpoints'}; pass ckpt=last or ckpt=PATH")
        return found[-1]
    path = run_dir / "checkpoints" / "last.ckpt" if ckpt == "last" else Path(ckpt)
    if not path.is_file():
        raise NekaError(f"ckpt={ckpt}: no checkpoint file {path}; use best, last or the path of a .ckpt file")
    return path


def load_model(checkpoint: Path, trust_checkpoint: bool = False) -> NekaClassifier:
    """`trust_checkpoint` also loads a file that needs full unpickling, which can run any code
    stored in it: only for files the user made."""
    if not zipfile.is_zipfile(checkpoint):  # torch.save writes zip archives; a truncated one is not
        raise NekaError(f"ckpt: {checkpoint} is not a readable checkpoint (not a complete torch.save archive); pick "
                        f"another with ckpt=best|last|PATH")
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=not trust_checkpoint)
    except pickle.UnpicklingError:
        raise NekaError(f"ckpt: {checkpoint} holds Python objects beyond tensors and numbers, and unpickling them can "
                        f"run code from the file; if you made it, pass trust_checkpoint=true") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as error:
        raise NekaError(f"ckpt: {checkpoint} is not a readable checkpoint ({one_line(error, 200)}); pick another with "
                        f"ckpt=best|last|PATH") from None
    if not isinstance(state, dict) or "hyper_parameters" not in state or "state_dict" not in state:
        raise NekaError(f"ckpt: {checkpoint} is not a neka checkpoint (no hyper_parameters/state_dict)")
    # the encoder comes from its stored config, and inference needs no loss weights
    model = NekaClassifier(**{**state["hyper_parameters"], "pretrained": None, "class_weights": None})
    model.load_state_dict(state["state_dict"])
    return model.eval()
