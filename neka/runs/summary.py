"""The short report every training run ends with."""

from collections.abc import Sequence
from pathlib import Path

from neka.runs.checkpoint_names import best_epoch_and_step

CLASS_COLUMNS = (("acc", "accuracy"), ("ce", "cross-entropy"), ("mse", "mse"), ("ece", "ECE"))
REGRESSION_COLUMNS = (("mse", "mse"), ("mae", "mae"), ("r2", "r2"))
MULTILABEL_COLUMNS = (("f1_micro", "micro-F1"), ("f1_macro", "macro-F1"), ("subset_acc", "subset acc"),
                      ("hamming", "hamming loss"), ("bce", "bce"))
COLUMNS = {"classification": CLASS_COLUMNS, "regression": REGRESSION_COLUMNS, "multilabel": MULTILABEL_COLUMNS}


def format_summary(metrics: dict[str, float], run_dir: Path, checkpoint: str | None,
                   split_sizes: dict[str, int], task: str, parameter_count: int,
                   class_names: Sequence[str] = (), seconds: float | None = None, warnings: Sequence[str] = (),
                   origins: dict[str, str] | None = None, baselines: dict[str, dict[str, float]] | None = None,
                   notes: Sequence[str] = ()) -> str:
    """Epochs counted from 1, as the progress bar and curves.png show them. `origins`: split ->
    `from FILE` or `carved from FILE`, a line naming each split's file. Multi-label runs add
    each label's test F1 and the `baselines` (neka/runs/baselines.py) under the table."""
    columns = COLUMNS[task]
    outputs = {"regression": "regression", "multilabel": f"{len(class_names)} labels (multi-label)"}.get(
        task, f"{len(class_names)} classes")
    best = best_epoch_and_step(checkpoint)
    lines = ["rows: " + ", ".join(f"{split} {count}" for split, count in split_sizes.items())
             + f"; {outputs}; model {parameter_count / 1e6:.1f} M parameters",
             *([format_class_names(class_names, "labels" if task == "multilabel" else "classes")]
               if class_names else []),
             f"best checkpoint: epoch {best[0] + 1}, step {best[1]}" if best
             else f"checkpoint: {checkpoint or 'final weights (no checkpoint saved)'}",
             f"{'split':<6}" + "".join(f"{title:>15}" for _, title in columns)]
    if origins:  # under the rows line
        lines.insert(1, "data: " + "; ".join(f"{split} {split_sizes[split]:,} rows {origin}"
                                             for split, origin in origins.items()))
    for split in ("val", "test"):
        lines.append(f"{split:<6}{table_cells(metrics, f'{split}/', columns)}")
    for name, values in (baselines or {}).items():  # keyed as metrics.json: test_f1_micro
        lines.append(f"{'test':<6}{table_cells(values, 'test_', columns)}   baseline: {name}")
    label_f1 = [f"{name} {metrics[f'test/f1_label/{name}']:.4f}" for name in class_names
                if f"test/f1_label/{name}" in metrics]
    if label_f1:
        lines.append("test F1 per label: " + ", ".join(label_f1))
    lines.extend(notes)  # how training ended, calibration
    if seconds is not None:
        lines.append(f"time: {format_duration(seconds)}")
    lines.append(f"run dir: {run_dir}")
    lines.append(f"tensorboard --logdir {run_dir / 'tb'}")
    lines.extend(f"warning: {warning}" for warning in warnings)
    return "\n".join(lines)


def table_cells(values: dict[str, float], prefix: str, columns: Sequence[tuple[str, str]]) -> str:
    """One row of the summary's table: each column's `prefix + name` value, or - where there is none."""
    return "".join(f"{values[prefix + name]:>15.4f}" if prefix + name in values else f"{'-':>15}"
                   for name, _ in columns)


def format_class_names(names: Sequence[str], kind: str = "classes", shown: int = 10) -> str:
    listed = ", ".join(names[:shown])
    return f"{kind}: {listed}" if len(names) <= shown else f"{kind}: {listed}, ... ({len(names)} in all)"


def format_duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {rest} s" if hours else f"{minutes} min {rest} s" if minutes else f"{rest} s"
