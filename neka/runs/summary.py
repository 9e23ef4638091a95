"""The short report every training run ends with."""

from collections.abc import Sequence
from pathlib import Path

from neka.runs.checkpoint_names import best_epoch_and_step

CLASS_COLUMNS = (("acc", "accuracy"), ("ce", "cross-entropy"), ("mse", "mse"))
REGRESSION_COLUMNS = (("mse", "mse"), ("mae", "mae"), ("r2", "r2"))


def format_summary(metrics: dict[str, float], run_dir: Path, checkpoint: str | None,
                   split_sizes: dict[str, int], task: str, parameter_count: int,
                   class_names: Sequence[str] = (), seconds: float | None = None, warnings: Sequence[str] = (),
                   origins: dict[str, str] | None = None) -> str:
    """Epochs counted from 1, as the progress bar and curves.png show them. `origins`: split ->
    `from FILE` or `carved from FILE`, a line naming each split's file."""
    columns = REGRESSION_COLUMNS if task == "regression" else CLASS_COLUMNS
    outputs = "regression" if task == "regression" else f"{len(class_names)} classes"
    best = best_epoch_and_step(checkpoint)
    lines = ["rows: " + ", ".join(f"{split} {count}" for split, count in split_sizes.items())
             + f"; {outputs}; model {parameter_count / 1e6:.1f} M parameters",
             *([format_class_names(class_names)] if class_names else []),
             f"best checkpoint: epoch {best[0] + 1}, step {best[1]}" if best
             else f"checkpoint: {checkpoint or 'final weights (no checkpoint saved)'}",
             f"{'split':<6}" + "".join(f"{title:>15}" for _, title in columns)]
    if origins:  # under the rows line
        lines.insert(1, "data: " + "; ".join(f"{split} {split_sizes[split]:,} rows {origin}"
                                             for split, origin in origins.items()))
    for split in ("val", "test"):
        cells = "".join(f"{metrics[f'{split}/{name}']:>15.4f}" if f"{split}/{name}" in metrics else f"{'-':>15}"
                        for name, _ in columns)
        lines.append(f"{split:<6}{cells}")
    if seconds is not None:
        lines.append(f"time: {format_duration(seconds)}")
    lines.append(f"run dir: {run_dir}")
    lines.append(f"tensorboard --logdir {run_dir / 'tb'}")
    lines.extend(f"warning: {warning}" for warning in warnings)
    return "\n".join(lines)


def format_class_names(names: Sequence[str], shown: int = 10) -> str:
    listed = ", ".join(names[:shown])
    return f"classes: {listed}" if len(names) <= shown else f"classes: {listed}, ... ({len(names)} in all)"


def format_duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {rest} s" if hours else f"{minutes} min {rest} s" if minutes else f"{rest} s"
