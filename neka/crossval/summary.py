"""cv_summary.csv and the table printed at the end: each fold's metrics.json, then their mean and
standard deviation (sample, ddof=1, as pandas computes it: the folds are a sample of the splits
the data allows)."""

import json
from pathlib import Path

import pandas as pd


def summarize_folds(fold_dirs: list[Path]) -> pd.DataFrame:
    """One row per fold (`fold`, its flat metrics, `run_dir`), then `mean` and `std` rows."""
    folds = pd.DataFrame([{"fold": str(index), **json.loads((fold_dir / "metrics.json").read_text(encoding="utf-8"))}
                          for index, fold_dir in enumerate(fold_dirs)])
    metrics = [column for column in folds.columns if column != "fold"]
    spread = pd.DataFrame([{"fold": "mean", **folds[metrics].mean()}, {"fold": "std", **folds[metrics].std()}])
    return pd.concat([folds.assign(run_dir=[str(fold_dir) for fold_dir in fold_dirs]), spread], ignore_index=True)


def format_fold_table(summary: pd.DataFrame) -> str:
    """Validation metrics per fold and `mean ± std`, to read on the console."""
    columns = [column for column in summary.columns if column.startswith("val_")]
    folds = summary[~summary["fold"].isin(["mean", "std"])]
    mean, std = (summary.set_index("fold").loc[name, columns] for name in ("mean", "std"))
    rows = [[f"fold {fold}", *(f"{value:.4f}" for value in values)] for fold, values in
            zip(folds["fold"], folds[columns].to_numpy())]
    rows.append(["mean ± std", *(f"{mean[column]:.4f} ± {std[column]:.4f}" for column in columns)])
    header = ["", *columns]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in [header, *rows])
