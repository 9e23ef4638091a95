"""Running a cross-validation: fold `k` is an ordinary run of neka.train in `cv/<k>/` (its own
checkpoints, TensorBoard, metrics.json, .hydra/config.yaml and train.log), validated on that fold
of the training rows; the test split, if any, is every fold's test split. Then
oof_predictions.csv, label_issues.csv (cv.label_issues=true) and, last, cv_summary.csv, whose
presence marks a finished cross-validation.

`resume=<run>` continues a killed cross-validation: finished folds (metrics.json) are kept, the
fold that was training continues from its newest checkpoint, and a fold with no checkpoint yet
starts again."""

import copy
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict

from neka.atomic import atomic_path
from neka.crossval.folds import SUMMARY, fold_dirs
from neka.crossval.label_issues import label_issue_table, require_cleanlab
from neka.crossval.oof import predict_out_of_fold
from neka.crossval.summary import format_fold_table, summarize_folds
from neka.data.tables import write_table
from neka.errors import NekaError
from neka.evaluate import log_file
from neka.runs.callbacks import default_monitor
from neka.runs.log_file import write_to_log_file
from neka.runs.outputs import link_latest, no_folder_for_user_errors

log = logging.getLogger(__name__)

OOF, LABEL_ISSUES = "oof_predictions.csv", "label_issues.csv"
FitAndTest = Callable[[DictConfig], tuple[dict[str, float], str]]  # neka.train.fit_and_test


def wants_cross_validation(cfg: DictConfig) -> bool:
    for key in ("fold", "label_issues"):  # both need folds; silently training one run would waste it
        if cfg.cv.folds is None and cfg.cv[key] not in (None, False):
            raise NekaError(f"cv.{key}={str(cfg.cv[key]).lower()} needs cv.folds (the number of folds); add cv.folds=5")
    return cfg.cv.folds is not None


def cross_validate(cfg: DictConfig, fit_and_test: FitAndTest) -> tuple[dict[str, float], str]:
    """The folds not finished yet, then the files of the whole. Returns each metric's mean over the
    folds, keyed `split/name`, and the metric checkpoints kept the best of, as `fit_and_test` does,
    so that a sweep compares cross-validated scores. With cv.fold, this job trains that fold alone,
    in its own folder (a sweep job; the sweep's end finishes the cross-validation)."""
    started, run_dir, count = time.perf_counter(), Path(cfg.paths.run_dir), cfg.cv.folds
    if cfg.data.get("val_path"):
        raise NekaError(f"cv.folds: each fold's validation rows are a fold of data.path, so data.val_path="
                        f"{cfg.data.val_path} would go unused; leave data.val_path out, or cv.folds out")
    if cfg.cv.label_issues:
        require_cleanlab()  # before hours of training, not after
    if cfg.cv.fold is not None:
        return fit_and_test(fold_config(cfg, run_dir, cfg.cv.fold, count))
    for index, fold_dir in enumerate(fold_dirs(run_dir, count)):
        if (fold_dir / "metrics.json").is_file():
            log.info("fold %d of %d finished before: %s", index + 1, count, fold_dir)
            continue
        train_fold(cfg, fit_and_test, fold_dir, index, count)
    summary = finish_cross_validation(run_dir, count, cfg.cv.label_issues, cfg.data.batch_size,
                                      cfg.trainer.accelerator)
    if cfg.paths.latest:
        link_latest(run_dir, Path(cfg.paths.latest))
    table = (f"cross-validation, {count} folds\n{format_fold_table(summary)}\n"
             f"time: {time.perf_counter() - started:.0f} s\nrun folder: {run_dir}")
    print(table, flush=True)
    write_to_log_file(log, logging.INFO, f"summary:\n{table}")
    mean = summary.set_index("fold").loc["mean"].drop("run_dir")
    task = json.loads((fold_dirs(run_dir, count)[0] / "inputs.json").read_text(encoding="utf-8"))["task"]
    return {name.replace("_", "/", 1): float(value) for name, value in mean.items()}, \
        cfg.monitor or default_monitor(task)


def fold_config(cfg: DictConfig, fold_dir: Path, index: int, count: int) -> DictConfig:
    """An ordinary run's config, in `fold_dir`, with fold `index` as its validation rows."""
    fold = copy.deepcopy(cfg)
    with open_dict(fold):
        fold.paths.run_dir, fold.paths.latest = str(fold_dir), None
        fold.data.fold = {"index": index, "count": count}
        fold.cv.folds, fold.cv.fold, fold.cv.label_issues = None, None, False
        fold.resume = None
    return fold


def train_fold(cfg: DictConfig, fit_and_test: FitAndTest, fold_dir: Path, index: int, count: int) -> None:
    fold = fold_config(cfg, fold_dir, index, count)
    if list((fold_dir / "checkpoints").glob("*.ckpt")):
        log.info("fold %d of %d: continuing %s", index + 1, count, fold_dir)
        with open_dict(fold):
            fold.resume = str(fold_dir)
    else:
        if fold_dir.exists():  # killed before its first checkpoint: nothing in it to continue from
            log.info("fold %d of %d: starting %s again (it has no checkpoint)", index + 1, count, fold_dir)
            shutil.rmtree(fold_dir)
        (fold_dir / ".hydra").mkdir(parents=True)
        with atomic_path(fold_dir / ".hydra" / "config.yaml") as temporary:
            OmegaConf.save(fold, temporary)  # what evaluate, predict and export read of a run
    log.info("fold %d of %d: %s", index + 1, count, fold_dir)
    with no_folder_for_user_errors(fold_dir), log_file(fold_dir / "train.log"):
        fit_and_test(fold)


def finish_cross_validation(run_dir: Path, count: int, label_issues: bool, batch_size: int,
                            accelerator: str) -> pd.DataFrame:
    """From finished fold folders: oof_predictions.csv, label_issues.csv, then cv_summary.csv."""
    folds = fold_dirs(run_dir, count)
    oof = predict_out_of_fold(folds, batch_size, accelerator)
    write_table(oof.frame, run_dir / OOF, "cv")
    log.info("wrote %s: %d rows", run_dir / OOF, len(oof.frame))
    if label_issues:
        issues = label_issue_table(oof)
        write_table(issues, run_dir / LABEL_ISSUES, "cv.label_issues")
        log.info("wrote %s: %d rows whose given label the out-of-fold models doubt", run_dir / LABEL_ISSUES,
                 len(issues))
        print(f"label issues: {len(issues)} of {len(oof.frame)} rows, least believable first: "
              f"{run_dir / LABEL_ISSUES}", file=sys.stderr)
    summary = summarize_folds(folds)
    write_table(summary, run_dir / SUMMARY, "cv")
    log.info("cross-validation complete: wrote %s", run_dir / SUMMARY)
    return summary


def find_label_issues(cfg: DictConfig, folds: int = 5) -> pd.DataFrame:
    """The rows of a composed train config's data most likely mislabelled: its cross-validation
    (cv.folds, or `folds` where unset) with cv.label_issues on, in its paths.run_dir, which the
    caller chooses; returns label_issues.csv as a table. The one call a data check makes."""
    from neka.train import fit_and_test  # here: neka.train imports this module

    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.cv.folds, cfg.cv.fold, cfg.cv.label_issues = cfg.cv.folds or folds, None, True
    cross_validate(cfg, fit_and_test)
    return pd.read_csv(Path(cfg.paths.run_dir) / LABEL_ISSUES, keep_default_na=False,
                       dtype={"text": str, "given_label": str, "suggested_label": str})
