"""The rows whose given label the out-of-fold models believe least: confident learning
(Northcutt et al., 2021) as cleanlab implements it. cleanlab decides which rows are issues (their
given label is unlikely under the per-class thresholds its confident joint estimates) and ranks
them by self-confidence, the out-of-fold probability of the given label, lowest first."""

import importlib.util

import numpy as np
import pandas as pd

from neka.crossval.oof import OutOfFold
from neka.errors import NekaError

COLUMNS = ["rank", "row", "text", "given_label", "suggested_label", "given_label_probability"]


def require_cleanlab() -> None:
    """cleanlab is an optional extra, neka[check]."""
    if importlib.util.find_spec("cleanlab") is None:
        raise NekaError("cv.label_issues=true needs cleanlab, which is not installed: pip install -e '.[check]'")


def rank_label_issues(given: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Indices of the rows cleanlab finds mislabelled, least believable first. One process
    (n_jobs=1): cleanlab otherwise forks one per core, each a copy of a process holding torch."""
    require_cleanlab()
    from cleanlab.filter import find_label_issues

    return find_label_issues(given, probabilities, return_indices_ranked_by="self_confidence", n_jobs=1)


def label_issue_table(oof: OutOfFold) -> pd.DataFrame:
    """label_issues.csv: `row` is the row's position among the file's data rows (0: the first after
    the header), `text` its input columns joined by " | " (one column: the text itself)."""
    if oof.is_regression:
        raise NekaError("cv.label_issues: ranking label issues needs classes, and this run is a regression; set "
                        "data.task=classification or cv.label_issues=false")
    ranked = rank_label_issues(oof.given, oof.outputs)
    rows = oof.frame.iloc[ranked]
    names = np.array(oof.label_names)
    return pd.DataFrame({
        "rank": np.arange(1, len(ranked) + 1),
        "row": rows.index.to_numpy(),
        "text": rows[oof.input_columns].astype(str).agg(" | ".join, axis=1).to_numpy(),
        "given_label": names[oof.given[ranked]],
        "suggested_label": names[oof.outputs[ranked].argmax(axis=1)],
        "given_label_probability": oof.outputs[ranked, oof.given[ranked]].round(6),
    }, columns=COLUMNS)
