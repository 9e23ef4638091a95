"""A Hydra callback that keeps a new run out of a finished run's folder.

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


class RefuseFinishedRun(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        with user_errors():
            refuse_finished_run(Path(config.hydra.run.dir), config.get("ckpt_path"))
