"""DDP for real: two CPU processes (gloo) through the command a user types."""

import json
import re
from pathlib import Path

import pytest

from conftest import run_in_process, run_neka

SAMPLED = re.compile(r"epoch (\d+), rank (\d) of 2: \d+ batches, rows \[([\d, ]*)\]")


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> tuple[Path, object]:
    workdir = tmp_path_factory.mktemp("ddp")
    result = run_neka("+experiment=tiny", "data.max_rows=200", "data.test_path=null", "trainer.max_epochs=2",
                      "trainer=ddp", "trainer.accelerator=cpu", "hydra.verbose=neka.data.sampling", "hydra.run.dir=run",
                      cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "run", result


def test_two_ranks_take_disjoint_shards_of_every_epoch(ddp_run):
    """160 training rows in batches of 32: five batches, one halved so that each rank gets three."""
    run_dir, result = ddp_run
    seen: dict[tuple[int, int], list[int]] = {}
    for epoch, rank, rows in SAMPLED.findall(result.stdout + result.stderr):
        seen[int(epoch), int(rank)] = [int(row) for row in rows.split(", ")]
    assert set(seen) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    for epoch in (0, 1):
        assert set(seen[epoch, 0]).isdisjoint(seen[epoch, 1])
        assert sorted(seen[epoch, 0] + seen[epoch, 1]) == list(range(160))
    assert (run_dir / "train_ddp_process_1.log").is_file()  # rank 1's log, as Lightning names its job


def test_rank_zero_alone_writes_the_run_files_and_the_summary(ddp_run):
    run_dir, result = ddp_run
    assert result.stdout.count("run dir: ") == 1
    assert {p.name for p in run_dir.glob("*.json")} == {"labels.json", "inputs.json", "splits.json", "metrics.json",
                                                       "calibration.json"}
    assert not list(run_dir.glob(".*.json*")) and not list(run_dir.glob(".*.npz"))  # no second writer's temporaries
    assert len(list((run_dir / "checkpoints").glob("best-*.ckpt"))) == 1


def test_metrics_are_reduced_across_ranks(ddp_run, tmp_path):
    """Each rank evaluates half of the 20 test rows; the metrics in metrics.json must be those of
    all 20, as one process computes them from the same checkpoint."""
    run_dir, _ = ddp_run
    trained = json.loads((run_dir / "metrics.json").read_text())
    result = run_in_process(f"run_dir={run_dir}", cwd=tmp_path, module="neka.evaluate")
    assert result.returncode == 0, result.stderr[-3000:]
    evaluated = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert evaluated["test_rows"] == 20
    for name in ("test_acc", "test_ce", "test_mse"):
        assert trained[name] == pytest.approx(evaluated[name], abs=1e-5)
