"""The short report every training run ends with."""

import re
from pathlib import Path

CLASS_COLUMNS = (("acc", "accuracy"), ("ce", "cross-entropy"), ("mse", "mse"))
REGRESSION_COLUMNS = (("mse", "mse"), ("mae", "mae"), ("r2", "r2"))


def format_summary(metrics: dict[str, float], run_dir: Path, checkpoint: str | None,
                   split_sizes: dict[str, int], outputs: str, parameter_count: int,
                   origins: dict[str, str] | None = None) -> str:
    """`origins`: split -> `from FILE` or `carved from FILE`, a line naming each split's file."""
    columns = CLASS_COLUMNS if "val/acc" in metrics else REGRESSION_COLUMNS
    best = re.search(r"epoch(\d+)-step(\d+)", Path(checkpoint).name) if checkpoint else None
    lines = ["rows: " + ", ".join(f"{split} {count}" for split, count in split_sizes.items())
             + f"; {outputs}; model {parameter_count / 1e6:.1f} M parameters",
             f"best checkpoint: epoch {best.group(1)}, step {best.group(2)}" if best
             else f"checkpoint: {checkpoint or 'final weights (no checkpoint saved)'}",
             f"{'split':<6}" + "".join(f"{title:>15}" for _, title in columns)]
    if origins:  # under the rows line
        lines.insert(1, "data: " + "; ".join(f"{split} {split_sizes[split]:,} rows {origin}"
                                             for split, origin in origins.items()))
    for split in ("val", "test"):
        cells = "".join(f"{metrics[f'{split}/{name}']:>15.4f}" if f"{split}/{name}" in metrics else f"{'-':>15}"
                        for name, _ in columns)
        lines.append(f"{split:<6}{cells}")
    lines.append(f"run dir: {run_dir}")
    lines.append(f"tensorboard --logdir {run_dir / 'tb'}")
    return "\n".join(lines)
