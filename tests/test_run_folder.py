"""What a training run leaves besides its files: the summary (classes, time) on the console and in
train.log, outputs/latest; and no folder left by a run a user mistake stopped."""

import os

import pytest

from neka.runs.checkpoint_names import best_epoch_and_step
from neka.runs.outputs import discard_failed_start, holds_only_the_start


def test_summary_names_classes_and_time_in_train_log_too_and_latest_links_the_run(tiny_run):
    run_dir, result = tiny_run
    summary = result.stdout[result.stdout.index("\nrows: ") + 1:]  # after the log lines Hydra shows on the console
    assert "classes: 0, 1\n" in summary and "\ntime: " in summary
    [best] = (run_dir / "checkpoints").glob("best-*.ckpt")
    assert f"best checkpoint: epoch {best_epoch_and_step(best)[0] + 1}, step" in summary  # counted from 1
    table = summary[:summary.index("tensorboard --logdir")]
    assert f"summary:\n{table}" in (run_dir / "train.log").read_text(encoding="utf-8")
    latest = run_dir.parents[1] / "latest"
    assert latest.is_symlink() and os.readlink(latest) == f"{run_dir.parent.name}/{run_dir.name}"
    assert latest.resolve() == run_dir.resolve() and (latest / "metrics.json").is_file()


@pytest.mark.parametrize("extra", [None, "labels.json", "notes.txt"])
def test_a_failed_start_leaves_no_folder_unless_it_holds_more(extra, tmp_path):
    run_dir = tmp_path / "outputs" / "2026-01-01" / "10-00-00-000000"
    (run_dir / ".hydra").mkdir(parents=True)
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        (run_dir / ".hydra" / name).write_text("{}\n")
    (run_dir / "train.log").write_text("[...][neka.data.datamodule][INFO] - rows: ...\n")
    if extra:
        (run_dir / extra).write_text("{}\n")
    assert holds_only_the_start(run_dir) == (extra is None)
    discard_failed_start(run_dir)
    assert run_dir.exists() == (extra is not None)
    assert run_dir.parent.exists() == (extra is not None)  # the date folder goes with its only run ...
    assert (tmp_path / "outputs").is_dir()                  # ... outputs/ stays
