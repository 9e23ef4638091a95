"""The short table every run ends with."""

from pathlib import Path

COLUMNS = (("acc", "accuracy"), ("ce", "cross-entropy"), ("mse", "mse"))


def format_summary(metrics: dict[str, float], run_dir: Path, checkpoint: str | None) -> str:
    lines = [f"{'split':<6}" + "".join(f"{title:>15}" for _, title in COLUMNS)]
    for split in ("val", "test"):
        cells = "".join(f"{metrics[f'{split}/{name}']:>15.4f}" if f"{split}/{name}" in metrics else f"{'-':>15}"
                        for name, _ in COLUMNS)
        lines.append(f"{split:<6}{cells}")
    lines.append(f"run dir: {run_dir}")
    lines.append(f"checkpoint: {checkpoint or 'final weights (no checkpoint saved)'}")
    return "\n".join(lines)
