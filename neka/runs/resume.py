"""Continuing a killed run in its own folder: `python -m neka.train <same overrides> resume=<run>`.

Lightning restores weights, optimizer, scheduler, step counters and callbacks from the
checkpoint, and the training loader's position within the epoch (neka/data/sampling.py). What
Lightning leaves out is the random state that dropout draws from; RandomState keeps it, so a
resumed run on CPU ends exactly where an uninterrupted one would.
"""

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import yaml
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.plugins.io import TorchCheckpointIO

from neka.atomic import atomic_path
from neka.crossval.folds import FOLDS_DIR, SUMMARY
from neka.errors import NekaError

log = logging.getLogger(__name__)


def check_resumable(run_dir: Path, overrides: list[str]) -> None:
    """Refuses before Hydra rewrites the folder's .hydra/ files: a resumed run must be the
    same experiment, or its checkpoints would silently train something else."""
    saved_overrides = run_dir / ".hydra" / "overrides.yaml"
    if not saved_overrides.is_file():
        raise NekaError(f"resume: {run_dir} is not a neka run folder (no .hydra/overrides.yaml)")
    for marker in ("metrics.json", SUMMARY):  # a run's, a cross-validation's
        if (run_dir / marker).exists():
            raise NekaError(f"resume: {run_dir} already finished (it has {marker}); start a new run instead")
    is_cross_validation = (run_dir / FOLDS_DIR).is_dir()  # its folds' checkpoints are in cv/<k>/
    if not is_cross_validation and not list((run_dir / "checkpoints").glob("*.ckpt")):
        raise NekaError(f"resume: {run_dir} has no checkpoint to continue from; start it again as a new run")
    before = sorted(o for o in yaml.safe_load(saved_overrides.read_text(encoding="utf-8")) or []
                    if not o.startswith("resume="))
    now = sorted(o for o in overrides if not o.startswith("resume="))
    if before != now:
        raise NekaError(f"resume: {run_dir} was started with the overrides {before}, not {now}; "
                        f"give the same ones with resume={run_dir}")


def newest_checkpoint(run_dir: Path) -> Path:
    """The newest of last.ckpt (end of epoch) and step*.ckpt (every_n_train_steps)."""
    folder = run_dir / "checkpoints"
    candidates = [p for p in [folder / "last.ckpt", *folder.glob("step*.ckpt")] if p.is_file()]
    if not candidates:
        raise NekaError(f"resume: no last.ckpt or step*.ckpt in {folder} to continue from")
    return max(candidates, key=lambda p: p.stat().st_mtime_ns)


def logged_step(checkpoint: Path) -> int:
    """The TensorBoard step the checkpoint was saved at: events after it, written before the
    kill, are purged when the resumed run logs again (SummaryWriter's purge_step)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    epoch_loop = state.get("loops", {}).get("fit_loop", {}).get("epoch_loop.state_dict", {})
    return int(epoch_loop.get("_batches_that_stepped", state.get("global_step", 0)))


class RandomState(Callback):
    """Saves torch's random state with each checkpoint and puts it back just before the first
    resumed batch, so dropout draws the same masks as in an uninterrupted run."""

    def __init__(self):
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
        return {"torch": torch.get_rng_state(), "cuda": cuda}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        if self._pending is None:
            return
        torch.set_rng_state(self._pending["torch"])
        if self._pending["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self._pending["cuda"])
        self._pending = None


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written under a temporary name and renamed: a kill while saving leaves the
    previous complete checkpoint, never a truncated one.

    torch.save writes straight to that file. Lightning's own save serialises into an in-memory
    buffer, copies it out, and writes the copy through an fsspec transaction (a second temporary
    file): 0.57-0.64 s against 0.17-0.18 s in training for a 156 MB MiniLM-shaped checkpoint,
    saved twice an epoch."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        with atomic_path(Path(path)) as temporary:
            torch.save(checkpoint, temporary)
