"""What every training command (neka.train, neka.pretrain) sets up the same way before it fits:
the tokenizer it builds or reloads, and the Trainer with neka's callbacks, precision, logger,
atomic checkpoints and the checkpoint a resumed run continues from."""

import logging
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning import Callback, Trainer

from neka.model.precision import choose_precision
from neka.runs.callbacks import build_callbacks
from neka.runs.guard import refuse_relaunch_in_sweep
from neka.runs.interrupt import InterruptNotice, command_line_overrides
from neka.runs.progress import epoch_progress_bar
from neka.runs.resume import AtomicCheckpointIO, logged_step, newest_checkpoint
from neka.runs.shared_vocabulary import share_tokenizer
from neka.tokenization.interface import NekaTokenizer
from neka.tokenization.loading import load_saved_tokenizer, load_tokenizer, pretrained_key

log = logging.getLogger(__name__)


def tokenizer_source(cfg: DictConfig, run_dir: Path) -> tuple[Callable[..., NekaTokenizer], dict | None]:
    """The factory a DataModule calls with the training texts, and the tokenizer config (the encoding
    cache's key; None when resuming). A resumed run reloads its saved vocab/, not a retrained one: the
    checkpoint's embeddings index it. Under DDP every rank gets rank 0's vocabulary."""
    if cfg.get("resume"):
        return lambda train_texts: load_saved_tokenizer(run_dir / "vocab"), None
    settings = OmegaConf.to_container(cfg.tokenizer, resolve=True)
    factory = share_tokenizer(partial(load_tokenizer, **settings, pretrained_key=pretrained_key(cfg.tokenizer)),
                              run_dir)
    return factory, settings


def build_trainer(cfg: DictConfig, run_dir: Path, monitor: str, task: str, command: str,
                  extra_callbacks: Sequence[Callback] = ()) -> tuple[Trainer, str | Path | None]:
    """The Trainer of `cfg.trainer` and the checkpoint to fit from: `ckpt_path`, or with `resume` the
    run's newest checkpoint, with TensorBoard told to drop what the killed run logged after it.
    `command` (neka.train) is what an interrupted run's notice tells the user to run again."""
    # extra callbacks first: a benchmark's clock or a test's guard sees each hook before neka's own do
    callbacks = [*extra_callbacks,
                 *build_callbacks(run_dir, monitor, task, **OmegaConf.to_container(cfg.callbacks, resolve=True)),
                 InterruptNotice(run_dir, command_line_overrides(), command)]
    if cfg.trainer.get("enable_progress_bar", True):  # Lightning refuses a progress bar callback when it is off
        callbacks.append(epoch_progress_bar())
    precision = choose_precision(cfg.trainer.precision, cfg.trainer.accelerator)
    ckpt_path, logger_options = cfg.get("ckpt_path"), {}
    if cfg.get("resume"):
        ckpt_path = newest_checkpoint(run_dir)
        logger_options["purge_step"] = logged_step(ckpt_path)  # TensorBoard drops what the killed run logged later
        log.info("resuming %s from %s (step %d)", run_dir, ckpt_path.name, logger_options["purge_step"])
    trainer: Trainer = instantiate(cfg.trainer, logger=instantiate(cfg.logger, save_dir=str(run_dir), **logger_options),
                                   callbacks=callbacks, default_root_dir=str(run_dir), precision=precision,
                                   plugins=[AtomicCheckpointIO()])
    refuse_relaunch_in_sweep(trainer)
    return trainer, ckpt_path
