"""Folds side by side: `python -m neka.train -m cv.folds=5 'cv.fold=range(5)' hydra/launcher=joblib`.
Each fold is a sweep job in `<sweep>/cv/<fold>/` (hydra.sweep.subdir), trained in a process of
its own; when the sweep ends, this callback writes what a cross-validation writes at its root
(oof_predictions.csv, label_issues.csv, cv_summary.csv), once every fold has finished."""

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from neka.cli.entry import user_errors
from neka.crossval.folds import FOLDS_DIR, fold_dirs
from neka.crossval.runner import finish_cross_validation
from neka.crossval.summary import format_fold_table

log = logging.getLogger(__name__)


class FinishCrossValidation(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir, count = Path(config.hydra.sweep.dir), config.cv.folds
        if count is None or not (sweep_dir / FOLDS_DIR).is_dir():  # not a swept cross-validation
            return
        missing = [str(fold) for fold in fold_dirs(sweep_dir, count) if not (fold / "metrics.json").is_file()]
        if missing:
            print(f"cross-validation: {len(missing)} of {count} folds did not finish ({', '.join(missing)}), so "
                  f"{sweep_dir} has no cv_summary.csv or oof_predictions.csv", flush=True)
            return
        with user_errors():
            summary = finish_cross_validation(sweep_dir, count, config.cv.label_issues, config.data.batch_size,
                                              config.trainer.accelerator)
        print(f"cross-validation, {count} folds\n{format_fold_table(summary)}\nrun folder: {sweep_dir}", flush=True)
