"""A Hydra callback that keeps a new run out of a finished run's folder, and a new sweep out of
a finished sweep's folder (its jobs would be numbered 0, 1, ... again).

It runs before Hydra writes anything into the run folder, so even the old run's saved
config stays as it was.
"""

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from neka.cli import user_errors
from neka.errors import NekaError


def refuse_finished_run(run_dir: Path, ckpt_path: str | None) -> None:
    """Continuing from a checkpoint (`ckpt_path`) is the one reason to reuse a folder."""
    if ckpt_path is None and ((run_dir / "metrics.json").exists() or (run_dir / "checkpoints").exists()):
        raise NekaError(f"hydra.run.dir: {run_dir} already holds a run; choose another hydra.run.dir")


def refuse_finished_sweep(sweep_dir: Path) -> None:
    """An Optuna search continues from its storage, in a new sweep folder."""
    if any(sweep_dir.glob("*/metrics.json")) or (sweep_dir / "summary.csv").exists():
        raise NekaError(f"hydra.sweep.dir: {sweep_dir} already holds a sweep's runs; choose another hydra.sweep.dir "
                        f"(an Optuna search continues from its storage: hydra.sweeper.storage=sqlite:///PATH/optuna.db)")


class RefuseFinishedRun(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        with user_errors():
            refuse_finished_run(Path(config.hydra.run.dir), config.get("ckpt_path"))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        with user_errors():
            refuse_finished_sweep(Path(config.hydra.sweep.dir))
