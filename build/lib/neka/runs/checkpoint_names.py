"""The best checkpoint's file name carries its place in training: best-epoch<E>-step<S>.ckpt,
with Lightning's epoch (counted from 0). The checkpoint callback writes it; the summary and
curves.png read it back, and show epochs counted from 1 as the progress bar does."""

import re
from pathlib import Path

BEST_CHECKPOINT_NAME = "best-epoch{epoch}-step{step}"


def best_epoch_and_step(checkpoint: str | Path | None) -> tuple[int, int] | None:
    """(epoch from 0, global step) of a best checkpoint; None for no checkpoint or another name."""
    found = re.fullmatch(r"best-epoch(\d+)-step(\d+)(-v\d+)?\.ckpt", Path(checkpoint).name) if checkpoint else None
    return (int(found.group(1)), int(found.group(2))) if found else None
