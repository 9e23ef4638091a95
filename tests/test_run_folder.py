"""One small training run in-process, and what it leaves: the summary (classes, time) on the
console and in train.log, outputs/latest; and no folder left by a run a user mistake stopped."""

import logging
import os

import pytest
from hydra import compose, initialize_config_dir

from neka.cli.configs import config_dir
from neka.runs.checkpoint_names import best_epoch_and_step
from neka.runs.outputs import discard_failed_start, holds_only_the_start
from neka.train import run

CONF = config_dir()


def test_summary_names_classes_and_time_in_train_log_too_and_latest_links_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # outputs/latest and the encoding cache, as for a user in this folder
    run_dir = tmp_path / "outputs" / "2026-01-01" / "10-00-00-000000"
    run_dir.mkdir(parents=True)
    log_file = logging.FileHandler(run_dir / "train.log")  # what Hydra's job logging adds
    logging.getLogger().addHandler(log_file)
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["+experiment=tiny", "data.max_rows=120", "data.test_path=null",
                                          "trainer.max_epochs=1", f"paths.run_dir={run_dir}"])
    try:
        run(cfg)
    finally:
        logging.getLogger().removeHandler(log_file)
        log_file.close()
    summary = capsys.readouterr().out
    assert "classes: 0, 1\n" in summary and "\ntime: " in summary
    [best] = (run_dir / "checkpoints").glob("best-*.ckpt")
    assert f"best checkpoint: epoch {best_epoch_and_step(best)[0] + 1}, step" in summary  # counted from 1
    table = summary[summary.index("rows: "):summary.index("tensorboard --logdir")]
    assert f"summary:\n{table}" in (run_dir / "train.log").read_text(encoding="utf-8")
    latest = tmp_path / "outputs" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "2026-01-01/10-00-00-000000"
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
