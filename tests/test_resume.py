"""Reproducible runs and resuming a killed one: real training runs, compared exactly; the killed and
interrupted ones are real processes, stopped by a signal."""

import json
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from neka.cli.resolvers import packaged_data_path

from conftest import assert_user_error, kill_after_first_step_checkpoint, run_in_process, start_in_foreground

# 900 training rows in batches of 32: 29 steps an epoch, a step checkpoint every 5
SETTINGS = ("data.max_rows=1000", "data.batch_size=32", "trainer.max_epochs=2", "trainer.deterministic=true",
            "callbacks.checkpoint.every_n_train_steps=5")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One working folder, so the runs share data.cache_dir as a user's runs do."""
    folder = tmp_path_factory.mktemp("resume")
    result = run_in_process(*SETTINGS, "hydra.run.dir=uninterrupted", cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard shows, as (step, value), after its purge of re-logged steps."""
    accumulator = EventAccumulator(str(run_dir / "tb"))
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def test_killed_run_resumes_to_exactly_the_uninterrupted_result(workdir):
    kill_after_first_step_checkpoint(workdir, "killed", SETTINGS)
    killed = workdir / "killed"
    assert not (killed / "metrics.json").exists()
    assert "run complete" not in (killed / "train.log").read_text()

    result = run_in_process(*SETTINGS, "resume=killed", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (killed / "train.log").read_text()
    resumed_from = log.split("resuming ", 1)[1].split("\n", 1)[0]
    assert " from step" in resumed_from  # a mid-epoch step checkpoint, not an epoch's end
    uninterrupted = workdir / "uninterrupted"
    assert (killed / "metrics.json").read_text() == (uninterrupted / "metrics.json").read_text()
    assert (killed / "history.csv").read_text() == (uninterrupted / "history.csv").read_text()
    resumed_scalars = scalars(killed)
    assert resumed_scalars == scalars(uninterrupted)  # same steps and values: nothing logged twice
    for tag, events in resumed_scalars.items():
        if tag != "epoch":  # Lightning logs `epoch` beside every metric, several at one step
            assert len({step for step, _ in events}) == len(events), tag


def test_ctrl_c_exits_130_with_the_command_that_continues_the_run(tmp_path):
    """Lightning's graceful shutdown, then one line with the exact command; the quoted override
    must survive the shell's quoting as the user typed it."""
    settings = ("+experiment=tiny", "data.max_rows=300", "data.test_path=null", "data.label_column='label'",
                "callbacks.checkpoint.every_n_train_steps=2")
    process = start_in_foreground([sys.executable, "-m", "neka.train", *settings, "hydra.run.dir=run"], cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "run" / "checkpoints").glob("step*.ckpt")):
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 130, stderr[-3000:]
    [notice] = [line for line in stderr.splitlines() if line.startswith("neka: interrupted at epoch 1 of 1, step ")]
    command = shlex.split(notice.split("; continue with: ", 1)[1])
    assert command[:3] == ["python", "-m", "neka.train"] and "\"data.label_column='label'\"" in notice
    assert command[3:] == [*settings, "resume=run"]
    assert notice in (tmp_path / "run" / "train.log").read_text(encoding="utf-8")
    resumed = run_in_process(*command[3:], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_resume_refuses_other_overrides_and_finished_runs(workdir):
    shutil.copytree(workdir / "uninterrupted", workdir / "other")
    (workdir / "other" / "metrics.json").unlink()  # as if killed
    before = {p: p.stat().st_mtime_ns for p in (workdir / "other").rglob("*")}
    result = run_in_process(*SETTINGS, "optimizer.lr=0.1", "resume=other", cwd=workdir)
    assert_user_error(result, "resume: other was started with the overrides")
    assert {p: p.stat().st_mtime_ns for p in (workdir / "other").rglob("*")} == before
    finished = run_in_process(*SETTINGS, "resume=uninterrupted", cwd=workdir)
    assert_user_error(finished, "already finished")


def test_same_seed_gives_identical_metrics_and_predictions(workdir):
    rows = workdir / "rows.csv"
    pd.read_csv(packaged_data_path("nsmc/test.tsv"), sep="\t").head(300).to_csv(rows, index=False)
    assert run_in_process(*SETTINGS, "hydra.run.dir=again", cwd=workdir).returncode == 0
    for run in ("uninterrupted", "again"):
        result = run_in_process(f"run_dir={run}", f"input={rows}", f"output={run}.predictions.csv", cwd=workdir,
                                module="neka.predict")
        assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "again" / "metrics.json").read_text() == (workdir / "uninterrupted" / "metrics.json").read_text()
    assert (workdir / "again.predictions.csv").read_text() == (workdir / "uninterrupted.predictions.csv").read_text()


def test_another_seed_gives_another_split_and_initialisation(workdir):
    assert run_in_process(*SETTINGS, "seed=7", "hydra.run.dir=seed7", cwd=workdir).returncode == 0
    samples = {run: [line.split(" - ", 1)[1] for line in (workdir / run / "train.log").read_text().splitlines()
                     if " - sample " in line] for run in ("uninterrupted", "seed7")}
    assert samples["uninterrupted"] and samples["uninterrupted"] != samples["seed7"]  # other training rows
    metrics = {run: json.loads((workdir / run / "metrics.json").read_text()) for run in ("uninterrupted", "seed7")}
    assert metrics["uninterrupted"]["test_ce"] != metrics["seed7"]["test_ce"]


def test_last_checkpoint_is_the_newest_epoch_when_the_monitor_did_not_improve(tmp_path):
    """lr 0: validation accuracy never improves after epoch 0, so the best checkpoint stays
    there, while last.ckpt (what resume and ckpt=last read) must hold the final epoch."""
    import torch

    result = run_in_process("+experiment=tiny", "trainer.max_epochs=2", "optimizer.lr=0", "data.cache_dir=null",
                            "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "run" / "checkpoints"
    [best] = [p.name for p in folder.glob("best-*.ckpt")]
    assert best.startswith("best-epoch0-step")
    steps_per_epoch = int(best.removeprefix("best-epoch0-step").removesuffix(".ckpt"))
    last = torch.load(folder / "last.ckpt", map_location="cpu", weights_only=False)
    assert (last["epoch"], last["global_step"]) == (1, 2 * steps_per_epoch)


def test_a_failed_checkpoint_save_keeps_the_previous_checkpoint_whole(tmp_path):
    """AtomicCheckpointIO writes with torch.save under a temporary name: what it wrote loads back
    as it was, and a save that fails halfway (here an object pickle cannot write, after the
    tensors) leaves the previous file as it was and no temporary file beside it."""
    import torch

    from neka.runs.resume import AtomicCheckpointIO

    io, path = AtomicCheckpointIO(), tmp_path / "checkpoints" / "last.ckpt"
    saved = {"state_dict": {"weight": torch.randn(64, 64)}, "global_step": 7}
    io.save_checkpoint(saved, path)
    before = path.read_bytes()
    loaded = io.load_checkpoint(path)
    assert loaded["global_step"] == 7 and torch.equal(loaded["state_dict"]["weight"], saved["state_dict"]["weight"])
    with pytest.raises(Exception, match="pickle"):
        io.save_checkpoint({"state_dict": {"weight": torch.randn(256, 256)}, "callback": lambda: None}, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]


def test_training_stops_early_says_why_and_checkpoints_the_count(tmp_path):
    """lr=0: validation accuracy never improves after the first epoch, so patience 1 stops after the second."""
    result = run_in_process("+experiment=tiny", "data.max_rows=200", "data.test_path=null", "trainer.max_epochs=4",
                            "optimizer.lr=0", "data.cache_dir=null", "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    reason = "early stopping: val/acc did not improve by more than 0 for 1 epoch(s)"
    assert reason in result.stdout and "stopped after epoch 2 of 4" in result.stdout
    assert reason in (tmp_path / "run" / "train.log").read_text()
    assert pd.read_csv(tmp_path / "run" / "history.csv")["epoch"].tolist() == [0, 1]
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["callbacks"]
    [stopper] = [value for key, value in state.items() if key.startswith("EarlyStopping")]
    assert stopper["wait_count"] == 1 and stopper["patience"] == 1
    plain = run_in_process("+experiment=tiny", "data.max_rows=200", "data.test_path=null", "trainer.max_epochs=3",
                           "optimizer.lr=0", "data.cache_dir=null", "callbacks.early_stopping=null",
                           "hydra.run.dir=plain", cwd=tmp_path)
    assert pd.read_csv(tmp_path / "plain" / "history.csv")["epoch"].tolist() == [0, 1, 2]
    assert "early stopping" not in plain.stdout
