"""The fold folders of a cross-validation, and which training rows validate which fold:
stratified, seeded, decided by the rows alone."""

import logging
from pathlib import Path

import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from neka.errors import NekaError

log = logging.getLogger(__name__)

FOLDS_DIR, SUMMARY = "cv", "cv_summary.csv"  # <run>/cv/<k>/: fold k's run folder; the summary, written last


def fold_dirs(run_dir: Path, count: int) -> list[Path]:
    return [run_dir / FOLDS_DIR / str(index) for index in range(count)]


def resumable_folder(run_dir: Path) -> Path:
    """What `resume=` names to continue `run_dir`: the cross-validation a fold belongs to (a fold of
    one command has no .hydra/overrides.yaml of its own; a sweep job's fold does), else the run."""
    parent = run_dir.parent.parent
    if (run_dir.parent.name == FOLDS_DIR and not (run_dir / ".hydra" / "overrides.yaml").is_file()
            and (parent / ".hydra" / "overrides.yaml").is_file()):
        return parent
    return run_dir


def split_fold(frame: pd.DataFrame, labels: pd.Series | None, index: int, count: int,
               seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fold `index` of `count` as the validation rows, the other folds as the training rows.

    The rows are put in file order first (their index is their position in the file), so every
    fold of a cross-validation cuts the same partition, whatever order the test split left them
    in. Stratified by the class `labels` when every class has a row for each fold; otherwise
    plain KFold with a warning, as sklearn refuses to stratify then. Regression passes no labels."""
    check_fold(index, count, len(frame))
    frame = frame.sort_index()
    if labels is not None:
        labels = labels.loc[frame.index]
        counts = labels.value_counts()
        if counts.min() < count:
            log.warning("cv.folds: folds are not stratified: the rarest class %r has %d rows, fewer than %d folds",
                        counts.idxmin(), counts.min(), count)
            labels = None
    splitter = (StratifiedKFold if labels is not None else KFold)(n_splits=count, shuffle=True, random_state=seed)
    train_rows, val_rows = list(splitter.split(frame, labels))[index]
    return frame.iloc[train_rows], frame.iloc[val_rows]


def check_fold(index: int, count: int, row_count: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count < 2:
        raise NekaError(f"cv.folds: must be a whole number of at least 2, got {count!r}")
    if count > row_count:
        raise NekaError(f"cv.folds: {count} folds of {row_count} training rows leave a fold empty; use at most "
                        f"{row_count} folds, or give more rows")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
        raise NekaError(f"cv.fold: must be a fold number from 0 to {count - 1} (cv.folds={count}), got {index!r}")
