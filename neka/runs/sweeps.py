"""The end of a sweep (`python -m neka.train -m ...`): one table of its jobs, best first.

Hydra runs the jobs (its basic launcher, joblib or SLURM) and the Optuna sweeper picks their
values; this module only reads what each job left in its folder (`.hydra/overrides.yaml`,
`metrics.json`), so it works the same for a grid and a search, and for jobs that failed.
"""

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from neka.atomic import atomic_path
from neka.runs.callbacks import LOWER_IS_BETTER, default_monitor

SUMMARY_NAME = "summary.csv"


def collect_jobs(sweep_dir: Path) -> pd.DataFrame:
    """One row per job folder: its overrides, its task (inputs.json), the best checkpoint's
    val/test metrics, the folder. A job without metrics.json (failed or stopped) keeps its row
    with empty metrics."""
    rows = []
    for overrides_file in sorted([*sweep_dir.glob("*/.hydra/overrides.yaml"),  # cv/<fold>/: a swept cross-validation
                                  *sweep_dir.glob("cv/*/.hydra/overrides.yaml")]):
        job_dir = overrides_file.parent.parent
        overrides = yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or []
        rows.append({"overrides": " ".join(overrides), "task": read_json(job_dir / "inputs.json").get("task"),
                     **read_json(job_dir / "metrics.json"), "folder": str(job_dir)})
    return pd.DataFrame(rows, columns=["overrides", "task", "folder"] if not rows else None)


def read_json(path: Path) -> dict:
    """A job that failed early has neither inputs.json nor metrics.json."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def rank_jobs(jobs: pd.DataFrame, monitor: str | None) -> pd.DataFrame:
    """Best first by `monitor` (flat: `val_acc`); by default as the jobs' checkpoints were chosen:
    the task's own metric (val MSE, lowest first, for regression; val micro-F1 for multi-label)
    when every job that got as far as its task has the same task, else val accuracy."""
    tasks = set(jobs["task"].dropna())
    key = (monitor or default_monitor(tasks.pop() if len(tasks) == 1 else "classification")).replace("/", "_")
    jobs = jobs.drop(columns="task")
    if key not in jobs:
        return jobs
    ascending = key.rsplit("_", 1)[-1] in LOWER_IS_BETTER
    shown = [name for name in (key, "test_" + key.split("_", 1)[1]) if name in jobs]
    return jobs[["overrides", *shown, "folder"]].sort_values(key, ascending=ascending, na_position="last",
                                                            kind="stable").reset_index(drop=True)


def write_summary(sweep_dir: Path, monitor: str | None) -> pd.DataFrame:
    table = rank_jobs(collect_jobs(sweep_dir), monitor)
    with atomic_path(sweep_dir / SUMMARY_NAME) as temporary:
        table.to_csv(temporary, index=False)
    return table


def format_sweep_summary(table: pd.DataFrame, sweep_dir: Path) -> str:
    """The overrides every job shares on one line, the table with only those that vary."""
    job_overrides = [overrides.split() for overrides in table["overrides"]]
    shared = [o for o in job_overrides[0] if all(o in others for others in job_overrides)] if job_overrides else []
    shown = table.assign(overrides=[" ".join(o for o in overrides if o not in shared) for overrides in job_overrides],
                         folder=[Path(folder).name for folder in table["folder"]])
    lines = [f"sweep: {len(table)} jobs, best first; every job: {' '.join(shared) or '-'}",
             shown.to_string(index=False, float_format=lambda value: f"{value:.4f}"),
             f"summary: {sweep_dir / SUMMARY_NAME}",
             f"tensorboard --logdir {sweep_dir}   (HPARAMS tab: the jobs side by side)"]
    return "\n".join(lines)


class SummarizeSweep(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """The Optuna sweeper opens its sqlite:/// storage in the sweep folder before any launcher
        has created that folder."""
        Path(config.hydra.sweep.dir).mkdir(parents=True, exist_ok=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        table = write_summary(sweep_dir, config.get("monitor"))
        print(format_sweep_summary(table, sweep_dir), flush=True)
