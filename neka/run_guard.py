"""A Hydra callback that keeps a new run out of an older run's folder, and lets `resume=`
back into one only for the same experiment.

It runs before Hydra writes anything into the run folder, so even the old run's saved
config stays as it was.
"""

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from neka.cli import user_errors
from neka.errors import NekaError
from neka.resume import check_resumable


def refuse_finished_run(run_dir: Path) -> None:
    """Resuming (`resume=`) is the one reason to reuse a folder."""
    if (run_dir / "metrics.json").exists() or (run_dir / "checkpoints").exists():
        raise NekaError(f"hydra.run.dir: {run_dir} already holds a run; choose another hydra.run.dir, or continue "
                        f"a killed run with resume={run_dir}")


class RefuseFinishedRun(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        with user_errors():
            if not config.get("resume"):
                refuse_finished_run(Path(config.hydra.run.dir))
                return
            if config.get("ckpt_path"):
                raise NekaError("resume and ckpt_path: give one; resume continues a run from its newest checkpoint")
            if Path(config.hydra.run.dir).resolve() != Path(config.resume).resolve():
                raise NekaError(f"resume: a resumed run stays in its folder {config.resume}; leave hydra.run.dir out")
            check_resumable(Path(config.resume), list(config.hydra.overrides.task))
