"""`python -m neka.evaluate`: score a run's checkpoint on its own test rows or on a new labelled file.

The run's own test rows are those train recorded (neka/data/split_record.py), read from the file they
came from, which must not have changed since; their results go to `<run>/eval/`. A new file's go
to `<run>/eval/<file stem>-<first 8 hex of the sha256 of its absolute path>/`, so evaluating
another file never overwrites them. Each folder gets metrics.json (naming the file and its
sha256), report.csv (per class), confusion_matrix.png and reliability.png (also in the run's
TensorBoard) and evaluate.log. Nothing is written before the run folder has opened.
"""

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import hydra
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.tensorboard import SummaryWriter

from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.data.datamodule import NekaDataModule
from neka.data.labels import check_known_labels, encode_labels, label_names, regression_targets
from neka.data.multilabel import indicator_sets, label_sets, multi_hot
from neka.data.split_record import RecordedSplit, check_unchanged, describe_file, load_recorded_split
from neka.data.tables import check_table_file, write_table
from neka.data.transform import EncodedRows
from neka.errors import NekaError
from neka.inference.reports import (
    confusion_figure,
    label_confusion_figure,
    macro_f1,
    per_class_report,
    per_label_report,
    reliability_figure,
    save_png_atomic,
)
from neka.inference.scoring import encode_frame, predict_outputs
from neka.model.metrics import metrics_of_outputs
from neka.runs.files import write_json_atomic
from neka.runs.trained import TrainedRun, open_run

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="evaluate")
def main(cfg: DictConfig) -> None:
    with user_errors():
        metrics, out_dir = run_evaluation(cfg)
        print("\n".join(f"{name:<16}{value:.4f}" for name, value in metrics.items()), flush=True)
        print(f"wrote {out_dir}", flush=True)


def run_evaluation(cfg: DictConfig) -> tuple[dict[str, float], Path]:
    """Importable for tests. The run folder opens and the file is checked before anything is written."""
    run = open_run(cfg.run_dir, cfg.ckpt, cfg.trust_checkpoint)
    recorded = None
    if cfg.data.path:
        path = check_table_file(cfg.data.path, "data.path").resolve()
        out_dir = run.run_dir / "eval" / f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    else:
        recorded = load_recorded_split(run.run_dir, "test")
        if recorded:
            check_unchanged(recorded, "test")
        out_dir = run.run_dir / "eval"
    with log_file(out_dir / "evaluate.log"):
        if cfg.data.path:
            rows, split, source = rows_of_file(run, path, cfg.data), "eval", describe_file(path)
        elif recorded:
            rows, split = rows_of_recorded_split(run, recorded), "test"
            source = {"path": str(recorded.path), "sha256": recorded.sha256}
        else:
            log.warning("run_dir: %s has no splits.json (trained before neka recorded its split rows): splitting "
                        "its data files again with its config and seed, which finds its test rows only if the files "
                        "did not change since", run.run_dir)
            rows, split, source = rows_of_test_split(run), "test", None
        log.info("scoring %s rows of %s with %s", f"{len(rows):,}", source["path"] if source else "the run's data",
                 run.checkpoint)
        metrics = evaluate(run, rows, split, out_dir, cfg.batch_size, cfg.accelerator, source)
        log.info("wrote %s: %s", out_dir, ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
    return metrics, out_dir


@contextlib.contextmanager
def log_file(path: Path) -> Iterator[None]:
    """The log beside the results, opened by evaluate rather than by Hydra, which would create
    its folder before the run folder is known to exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def run_data(run: TrainedRun) -> NekaDataModule:
    """The run's data config with its tokenizer, label map, task and input columns."""
    data = instantiate(run.config.data, tokenizer_factory=lambda train_texts: run.tokenizer,
                       label_map=run.label_map, task=run.inputs["task"], _convert_="all")
    data.tokenizer, data.input_columns = run.tokenizer, run.input_columns
    return data


def rows_of_recorded_split(run: TrainedRun, recorded: RecordedSplit) -> EncodedRows:
    """Exactly the recorded rows, read from the absolute path recorded: any folder will do."""
    return run_data(run).encode_rows_at(str(recorded.path), recorded.key, recorded.positions, "test")


def rows_of_test_split(run: TrainedRun) -> EncodedRows:
    """A run without a split record: its data config and seed split the table again."""
    data = run_data(run)
    data.setup("test")
    return data.encoded["test"]


def rows_of_file(run: TrainedRun, path: Path, settings: DictConfig) -> EncodedRows:
    frame = run.read_table(path, "data.path", encoding=settings.encoding, sep=settings.sep,
                           has_header=settings.has_header)
    if run.is_multilabel:
        return encode_frame(run, frame, path.name, multilabel_targets(run, frame, path.name))
    label_column = run.inputs["label_column"]
    if label_column not in frame.columns:
        raise NekaError(f"data.path: {path.name} has no label column {label_column!r}; evaluation needs labels "
                        f"(python -m neka.predict scores unlabelled rows)")
    if run.is_regression:
        return encode_frame(run, frame, path.name, regression_targets(frame[label_column], path.name))
    names = label_names(frame[label_column])
    check_known_labels(names, run.label_map, path.name)
    return encode_frame(run, frame, path.name, encode_labels(names, run.label_map))


def multilabel_targets(run: TrainedRun, frame: pd.DataFrame, file_name: str) -> np.ndarray:
    """The file's label sets, read as the training table's were (label_sep or label_columns)."""
    columns = run.inputs.get("label_columns") or [run.inputs["label_column"]]
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise NekaError(f"data.path: {file_name} has no label column(s) {missing}; evaluation needs labels "
                        f"(python -m neka.predict scores unlabelled rows)")
    sets = (indicator_sets(frame, columns, file_name) if run.inputs.get("label_columns")
            else label_sets(frame[columns[0]], run.label_sep, file_name))
    return multi_hot(sets, run.label_map, file_name)


def evaluate(run: TrainedRun, rows: EncodedRows, split: str, out_dir: Path, batch_size: int,
             accelerator: str, source: dict | None = None) -> dict[str, float]:
    """metrics.json always (with the file scored, where known); for classes and labels also
    report.csv and the confusion matrix (multi-label: one 2x2 per label, at the run's thresholds)."""
    outputs = predict_outputs(run, rows, batch_size, accelerator, show_progress=True)
    labels, names = rows.labels, run.label_names
    thresholds = run.thresholds if run.is_multilabel else None
    metrics = metrics_of_outputs(outputs, labels, split, run.task, thresholds, names)
    if run.task == "classification":
        metrics[f"{split}_macro_f1"] = macro_f1(outputs, labels)
    out_dir.mkdir(parents=True, exist_ok=True)
    file = {"file": source["path"], "sha256": source["sha256"]} if source else {}
    write_json_atomic(out_dir / "metrics.json", {**metrics, f"{split}_rows": len(labels), **file,
                                                 "checkpoint": str(run.checkpoint)})
    if run.is_regression:
        return metrics
    if run.is_multilabel:
        write_table(per_label_report(outputs, labels, names, thresholds), out_dir / "report.csv", "eval")
        figures = {"confusion_matrix": label_confusion_figure(outputs, labels, names, thresholds)}
    else:
        write_table(per_class_report(outputs, labels, names), out_dir / "report.csv", "eval")
        figures = {"confusion_matrix": confusion_figure(outputs, labels, names),
                   "reliability": reliability_figure(outputs, labels)}
    with SummaryWriter(str(run.run_dir / "tb")) as writer:  # each figure once per evaluated file
        for name, figure in figures.items():
            save_png_atomic(figure, out_dir / f"{name}.png")
            writer.add_figure(f"test/{name}" if split == "test" else f"eval/{out_dir.name}/{name}", figure)
            plt.close(figure)
    return metrics


def command() -> None:
    """`python -m neka.evaluate` and the console script `neka-evaluate`."""
    run_command(main, "evaluate")


if __name__ == "__main__":
    command()
