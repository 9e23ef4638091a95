"""The short report every pretraining run ends with, in the shape of neka.train's."""

from pathlib import Path

from neka.runs.checkpoint_names import best_epoch_and_step
from neka.runs.summary import format_duration, table_cells

COLUMNS = (("loss", "MLM loss"), ("mlm_acc", "masked acc"))


def format_pretrain_summary(metrics: dict[str, float], run_dir: Path, checkpoint: str | None,
                            split_sizes: dict[str, int], origins: dict[str, str], parameter_count: int,
                            vocabulary_size: int, seconds: float, encoder_dir: Path, fine_tune: str,
                            notes: list[str]) -> str:
    best = best_epoch_and_step(checkpoint)
    return "\n".join([
        "rows: " + ", ".join(f"{split} {count}" for split, count in split_sizes.items())
        + f"; vocabulary {vocabulary_size:,}; model {parameter_count / 1e6:.1f} M parameters",
        "data: " + "; ".join(f"{split} {split_sizes[split]:,} rows {origin}" for split, origin in origins.items()),
        f"best checkpoint: epoch {best[0] + 1}, step {best[1]}" if best
        else f"checkpoint: {checkpoint or 'final weights (no checkpoint saved)'}",
        f"{'split':<6}" + "".join(f"{title:>15}" for _, title in COLUMNS),
        f"{'val':<6}{table_cells(metrics, 'val/', COLUMNS)}",
        *notes,
        f"time: {format_duration(seconds)}",
        f"run dir: {run_dir}",
        f"tensorboard --logdir {run_dir / 'tb'}",
        f"encoder: {encoder_dir}",
        f"fine-tune it: {fine_tune}",
    ])
