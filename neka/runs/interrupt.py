"""Ctrl-C while training: the run says where it stopped and the command that continues it.

Lightning catches the KeyboardInterrupt in fit, validate and test, calls every callback's
`on_exception`, tears the Trainer down and exits with status 1. neka exits with 130 instead
(128 + SIGINT, what shells report for a command stopped by Ctrl-C), so scripts and schedulers
can tell an interrupted run from a failed one.
"""

import contextlib
import logging
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from pytorch_lightning.callbacks import Callback

from neka.crossval.folds import resumable_folder
from neka.runs.log_file import write_to_log_file

log = logging.getLogger(__name__)

SIGINT_EXIT_CODE = 130


def continue_command(run_dir: Path, overrides: Sequence[str], command: str = "neka.train") -> str:
    """`python -m <command>` with the run's own overrides, as check_resumable requires, with `resume=`
    naming its folder (relative to the current folder when inside it), quoted for a POSIX shell."""
    kept = [override for override in overrides if not override.startswith("resume=")]
    folder = resumable_folder(run_dir).resolve()
    if folder.is_relative_to(Path.cwd().resolve()):
        folder = folder.relative_to(Path.cwd().resolve())
    return " ".join(shell_quote(word) for word in ["python", "-m", command, *kept, f"resume={folder}"])


def shell_quote(word: str) -> str:
    """As README writes Hydra's quoted values, "data.label_column='학점'": double quotes where
    nothing inside them is special to the shell, else shlex's single quotes."""
    if shlex.quote(word) == word or any(character in word for character in '"$`\\!'):
        return shlex.quote(word)
    return f'"{word}"'



def command_line_overrides() -> list[str]:
    """What the user typed after `python -m neka.train` or `neka.pretrain` (none when a test or the benchmark
    composes the config itself)."""
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


class InterruptNotice(Callback):
    """`overrides`: the command line's (Hydra's overrides.task); `command`: the module that ran them."""

    def __init__(self, run_dir: Path, overrides: Sequence[str], command: str = "neka.train"):
        self.run_dir, self.overrides, self.command = run_dir, list(overrides), command

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt) or not trainer.is_global_zero:
            return
        stage = trainer.state.fn.value if trainer.state.fn else "fit"  # fit, validate or test
        where = (f"epoch {trainer.current_epoch + 1} of {trainer.max_epochs}, step {trainer.global_step}"
                 if stage == "fit" else f"{stage} of the best checkpoint, after training")
        if list((self.run_dir / "checkpoints").glob("*.ckpt")):
            again = continue_command(self.run_dir, self.overrides, self.command)
            notice = f"neka: interrupted at {where}; continue with: {again}"
        else:
            notice = (f"neka: interrupted at {where}, before its first checkpoint: nothing to continue from; start "
                      f"it again (callbacks.checkpoint.every_n_train_steps=N saves every N steps)")
        print(notice, file=sys.stderr, flush=True)
        write_to_log_file(log, logging.WARNING, notice)


@contextlib.contextmanager
def sigint_exit_code(trainer: pl.Trainer) -> Iterator[None]:
    """Around the Trainer's calls: Lightning's exit after an interrupt becomes exit status 130."""
    try:
        yield
    except SystemExit as exit_request:
        if trainer.interrupted and exit_request.code == 1:
            raise SystemExit(SIGINT_EXIT_CODE) from None
        raise
