"""Seeded sampling and train/validation/test splits, stratified whenever the data allows."""

import logging

import pandas as pd
from sklearn.model_selection import train_test_split

from neka.errors import NekaError

log = logging.getLogger(__name__)


def sample_rows(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """A seeded random subset for quick tries (like HF's max_train_samples)."""
    if max_rows is None or max_rows >= len(frame):
        return frame
    if max_rows < 1:
        raise NekaError(f"data.max_rows: must be a positive number of rows, got {max_rows}")
    return frame.sample(n=max_rows, random_state=seed)


def split_holdout(frame: pd.DataFrame, labels: pd.Series | None, size: float, seed: int,
                  key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carve `size` (a share of the rows) out of `frame`. Stratified by the class `labels`
    when every class has at least two rows and the holdout can hold one row of each class;
    otherwise random, with a warning, because sklearn refuses to stratify then. Regression
    passes no labels: always random."""
    holdout_count = round(size * len(frame))
    if holdout_count < 1 or len(frame) - holdout_count < 1:
        raise NekaError(f"{key}: {size} of {len(frame)} rows leaves an empty split; use a share between "
                        f"{1 / len(frame):.3g} and {1 - 1 / len(frame):.3g}, or give more rows")
    if labels is None:
        return tuple(train_test_split(frame, test_size=holdout_count, random_state=seed))
    counts = labels.value_counts()
    can_stratify = counts.min() >= 2 and min(holdout_count, len(frame) - holdout_count) >= len(counts)
    if not can_stratify:
        log.warning("%s: split is not stratified: the rarest class %r has %d rows, too few for %d classes",
                    key, counts.idxmin(), counts.min(), len(counts))
    rest, holdout = train_test_split(frame, test_size=holdout_count, random_state=seed,
                                     stratify=labels if can_stratify else None)
    return rest, holdout


def check_split_sizes(val_size: float, test_size: float) -> None:
    if not (0 <= val_size < 1 and 0 <= test_size < 1 and val_size + test_size < 1):
        raise NekaError(f"data.val_size + data.test_size must be below 1 (each in [0, 1)); "
                        f"got {val_size} + {test_size}")
