"""What a finished run leaves for people and programs: labels.json, inputs.json, vocab/, metrics.json.
Each is written atomically (neka/atomic.py), and under DDP by global rank 0 only: every rank runs
the same code, and Lightning sets the rank from the launcher's environment (RANK, LOCAL_RANK,
SLURM_PROCID) when it is imported, so this holds before the Trainer exists too."""

import json
from pathlib import Path

from pytorch_lightning.utilities import rank_zero_only

from neka.atomic import atomic_path
from neka.tokenization.interface import NekaTokenizer


def write_json_atomic(path: Path, payload: object) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@rank_zero_only
def save_labels(run_dir: Path, label_map: dict[str, int]) -> None:
    write_json_atomic(run_dir / "labels.json", label_map)


@rank_zero_only
def save_inputs(run_dir: Path, input_columns: list[str], label_spec: dict, task: str) -> None:
    """How a table row becomes a sequence and what the head predicts: predict, evaluate and
    export read the same. `label_spec`: label_column, and for multi-label tables label_sep or
    label_columns."""
    write_json_atomic(run_dir / "inputs.json", {"input_columns": input_columns, **label_spec, "task": task})


@rank_zero_only
def save_vocabulary(run_dir: Path, tokenizer: NekaTokenizer) -> None:
    with atomic_path(run_dir / "vocab", is_folder=True) as staging:
        tokenizer.save(staging)


def flat_metric_names(metrics: dict[str, float]) -> dict[str, float]:
    """`test/acc` -> `test_acc`: shells and spreadsheets read these more easily."""
    return {name.replace("/", "_"): float(value) for name, value in sorted(metrics.items())}


@rank_zero_only
def save_metrics(run_dir: Path, metrics: dict[str, float]) -> None:
    """Written last: a run folder with metrics.json is a finished run."""
    write_json_atomic(run_dir / "metrics.json", flat_metric_names(metrics))
