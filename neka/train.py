"""`python -m neka.train`: fit, test the best checkpoint, and leave a complete run folder."""

import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import hydra
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from pytorch_lightning import Callback, seed_everything

from neka.check.startup import warn_about_data
from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.crossval.runner import cross_validate, wants_cross_validation
from neka.data.datamodule import NekaDataModule
from neka.data.split_record import save_split_record
from neka.inference.scoring import model_outputs
from neka.model.classifier import NekaClassifier
from neka.model.families import check_max_len
from neka.runs.baselines import multilabel_baselines
from neka.runs.calibration import calibrate, describe
from neka.runs.callbacks import default_monitor, early_stop_reason
from neka.runs.files import save_inputs, save_labels, save_metrics, save_vocabulary
from neka.runs.fitting import build_trainer, tokenizer_source
from neka.runs.hparams import log_hparams
from neka.runs.interrupt import sigint_exit_code
from neka.runs.log_file import write_to_log_file
from neka.runs.outputs import link_latest, no_folder_for_user_errors
from neka.runs.plugins import require_plugins
from neka.runs.summary import format_summary
from neka.runs.thresholds import save_thresholds, tune_thresholds

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="train")
def main(cfg: DictConfig) -> float | None:
    with user_errors(), no_folder_for_user_errors(Path(cfg.paths.run_dir)):
        metrics, monitor = cross_validate(cfg, fit_and_test) if wants_cross_validation(cfg) else fit_and_test(cfg)
        return metrics.get(monitor)  # what a sweep compares


def run(cfg: DictConfig, extra_callbacks: Sequence[Callback] = ()) -> dict[str, float]:
    """Fit, then validate and test the best checkpoint; returns metrics keyed `split/name`.
    `extra_callbacks` let the benchmark time the real training path."""
    return fit_and_test(cfg, extra_callbacks)[0]


def fit_and_test(cfg: DictConfig, extra_callbacks: Sequence[Callback] = ()) -> tuple[dict[str, float], str]:
    """`run`, and the metric its checkpoints kept the best of: `monitor`, or by default the one for
    the task the data has (data.task=auto decides it only when the table is read)."""
    started = time.perf_counter()
    run_dir = Path(cfg.paths.run_dir)
    seed_everything(cfg.seed, workers=True, verbose=False)
    tokenizer_factory, tokenizer_settings = tokenizer_source(cfg, run_dir)
    data: NekaDataModule = instantiate(cfg.data, tokenizer_factory=tokenizer_factory,
                                       tokenizer_settings=tokenizer_settings, _convert_="all")
    data.setup("fit")  # the label map, class count and vocabulary exist only after setup
    warn_about_data(data)  # leakage, conflicting labels, rows cut at max_len: neka.check's cheap part
    label_names = [] if data.is_regression else sorted(data.label_map, key=data.label_map.get)
    build_model = instantiate(cfg.model, num_labels=data.num_labels, vocab_size=len(data.tokenizer),
                              pad_id=data.pad_id, optimizer=cfg.optimizer, scheduler=cfg.scheduler, task=data.task,
                              label_names=label_names if data.is_multilabel else None,
                              window_aggregation=data.window_aggregation, _partial_=True,
                              _convert_="all")
    # the labels as an array, past Hydra: through instantiate each became an OmegaConf node (15.3 s, 247 MB at 160,000)
    model: NekaClassifier = build_model(train_labels=data.encoded["train"].labels)
    check_max_len(data.max_len, model.encoder.config, data.tokenizer)
    if not cfg.get("resume"):  # a resumed run keeps the files its first start wrote
        save_labels(run_dir, data.label_map)
        save_inputs(run_dir, data.input_columns, data.label_spec, data.task)
        save_vocabulary(run_dir, data.tokenizer)
        save_split_record(run_dir, data.table_files, data.split_files, data.split_positions)

    monitor = cfg.monitor or default_monitor(data.task)
    trainer, ckpt_path = build_trainer(cfg, run_dir, monitor, data.task, "neka.train", extra_callbacks)
    with sigint_exit_code(trainer):
        trainer.fit(model, datamodule=data, ckpt_path=ckpt_path, weights_only=True)
        best = trainer.checkpoint_callback.best_model_path or None  # None under fast_dev_run: current weights
        stopped_early = early_stop_reason(trainer)
        if stopped_early:
            log.info(stopped_early)
        calibration = None
        if data.task == "classification" and model.hparams.calibration:
            load_weights(model, best)  # those validate and test load: calibrate them first
            calibration = calibrate(model, data, run_dir)
        if data.is_multilabel:  # decide where each label applies, for the best weights
            load_weights(model, best)
            decide_thresholds(model, data, label_names, run_dir)
        # validate and test reload these weights; the temperature and thresholds are not in checkpoints
        metrics = {**trainer.validate(model, datamodule=data, ckpt_path=best, verbose=False)[0],
                   **trainer.test(model, datamodule=data, ckpt_path=best, verbose=False)[0]}
    log_hparams(trainer.logger, cfg, metrics)  # TensorBoard's HPARAMS tab compares the runs of a sweep
    save_metrics(run_dir, metrics)
    log.info("run complete: wrote %s", run_dir / "metrics.json")  # a killed run's log lacks this line
    if cfg.paths.latest:
        link_latest(run_dir, Path(cfg.paths.latest))
    sizes = {split: len(rows) for split, rows in data.encoded.items()}
    parameter_count = sum(p.numel() for p in model.parameters())
    if trainer.is_global_zero:  # under DDP every rank gets here
        baselines = None
        if data.is_multilabel:
            baselines = multilabel_baselines(data.encoded["train"].labels, data.encoded["test"].labels, cfg.seed)
            log.info("baselines on the test split: %s", baselines)
        summary = format_summary(metrics, run_dir, best, sizes, data.task, parameter_count, label_names,
                                 time.perf_counter() - started, [data.label_warning] if data.label_warning else [],
                                 data.origins, baselines,
                                 [note for note in (stopped_early, calibration and describe(calibration)) if note])
        print(summary, flush=True)
        write_to_log_file(log, logging.INFO, f"summary:\n{summary}")
    return metrics, monitor


def load_weights(model: NekaClassifier, checkpoint: str | None) -> None:
    """The checkpoint's weights in `model` (None: keep the current ones, as under fast_dev_run)."""
    if checkpoint:
        model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"])


def decide_thresholds(model: NekaClassifier, data: NekaDataModule, label_names: list[str], run_dir: Path) -> None:
    """model.thresholds for every label, or with `tune` each label's best on the validation
    split; set on the model for the metrics that follow and saved in thresholds.json."""
    setting = model.hparams.thresholds
    if setting == "tune":
        probabilities = model_outputs(model, data.encoded["val"], data.pad_id, data.batch_size, model.device)
        thresholds = tune_thresholds(probabilities, data.encoded["val"].labels, label_names)
    else:
        thresholds = [float(setting)] * len(label_names)
    model.set_thresholds(thresholds)
    save_thresholds(run_dir, label_names, thresholds)


def command() -> None:
    """`python -m neka.train` and the console script `neka-train`."""
    with user_errors():
        require_plugins(sys.argv[1:])  # before Hydra composes a config that names a missing plugin
    run_command(main, "train")


if __name__ == "__main__":
    command()
