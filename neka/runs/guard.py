"""A Hydra callback that keeps a new run out of an older run's folder (`resume=` lets one back
into its own folder, for the same experiment), and a new sweep out of a finished sweep's folder
(its jobs would be numbered 0, 1, ... again).

It runs before Hydra writes anything into the run folder, so even the old run's saved
config stays as it was.
"""

from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig
from pytorch_lightning import Trainer
from pytorch_lightning.strategies.launchers import _SubprocessScriptLauncher

from neka.cli.entry import user_errors
from neka.crossval.folds import FOLDS_DIR
from neka.errors import NekaError
from neka.runs.resume import check_resumable


def refuse_finished_run(run_dir: Path) -> None:
    """Resuming (`resume=`) is the one reason to reuse a folder."""
    if any((run_dir / name).exists() for name in ("metrics.json", "checkpoints", FOLDS_DIR)):
        raise NekaError(f"hydra.run.dir: {run_dir} already holds a run; choose another hydra.run.dir, or continue "
                        f"a killed run with resume={run_dir}")


def refuse_finished_sweep(sweep_dir: Path) -> None:
    """An Optuna search continues from its storage, in a new sweep folder."""
    if any(sweep_dir.glob("*/metrics.json")) or (sweep_dir / "summary.csv").exists():
        raise NekaError(f"hydra.sweep.dir: {sweep_dir} already holds a sweep's runs; choose another hydra.sweep.dir "
                        f"(an Optuna search continues from its storage: hydra.sweeper.storage=sqlite:///PATH/optuna.db)")


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

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        with user_errors():
            refuse_finished_sweep(Path(config.hydra.sweep.dir))


def refuse_relaunch_in_sweep(trainer: Trainer) -> None:
    """Lightning's `ddp` starts ranks 1.. by running the command line again, which under `-m` would
    run the whole sweep again in every rank. SLURM and torchrun start the ranks themselves."""
    launcher = trainer.strategy.launcher
    if (isinstance(launcher, _SubprocessScriptLauncher) and launcher.num_processes > 1
            and not launcher.cluster_environment.creates_processes_externally
            and HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN):
        raise NekaError(f"trainer.strategy=ddp on {launcher.num_processes} devices "
                        "cannot run inside a sweep (-m): it starts its ranks by re-running the command; use "
                        "trainer.devices=1 per job (hydra/launcher=joblib runs jobs side by side), "
                        "trainer.strategy=ddp_spawn, or hydra/launcher=submitit_slurm, where SLURM starts the ranks")
