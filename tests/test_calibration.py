"""Temperature scaling: fitted on validation logits, kept in the run, applied by every command."""

import json
import shutil

import numpy as np
import pytest
import torch

from neka.model.metrics import metrics_of_outputs
from neka.runs.calibration import fit_temperature, rescale
from neka.runs.trained import open_run

from conftest import run_in_process


def test_an_over_confident_model_gets_its_temperature_back():
    """Labels drawn from softmax(z), the model reports 3 z: the fitted T is about 3, cross-entropy
    and ECE fall, and no row's predicted class changes."""
    generator = torch.Generator().manual_seed(0)
    true_logits = torch.randn(4000, 3, generator=generator) * 1.5
    labels = torch.multinomial(true_logits.softmax(-1), 1, generator=generator)[:, 0].numpy()
    reported = (3 * true_logits).softmax(-1).numpy()
    temperature = fit_temperature(reported, labels)
    assert temperature == pytest.approx(3.0, rel=0.1)
    calibrated = rescale(reported, temperature)
    before = metrics_of_outputs(reported, labels, "val", "classification")
    after = metrics_of_outputs(calibrated, labels, "val", "classification")
    assert after["val_ce"] < before["val_ce"] and after["val_ece"] < before["val_ece"] / 2
    assert (calibrated.argmax(1) == reported.argmax(1)).all() and after["val_acc"] == before["val_acc"]


def test_a_run_keeps_its_temperature_and_evaluate_applies_it(tiny_run, tmp_path):
    run_dir, result = tiny_run
    record = json.loads((run_dir / "calibration.json").read_text())
    assert record["method"] == "temperature" and record["temperature"] > 0 and record["temperature"] != 1
    assert {f"{s}_{m}_{w}" for s in ("val", "test") for m in ("ce", "ece") for w in ("before", "after")} <= set(record)
    assert "calibration: temperature" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_ece"] == pytest.approx(record["test_ece_after"], abs=1e-6)
    assert metrics["test_ce"] == pytest.approx(record["test_ce_after"], abs=1e-6)
    assert float(open_run(run_dir).model.temperature) == pytest.approx(record["temperature"])
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    evaluated = run_in_process(f"run_dir={copy}", cwd=tmp_path, module="neka.evaluate")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert (copy / "eval" / "reliability.png").stat().st_size > 0
    # evaluate batches 64 rows, the tiny run's test 32: padded otherwise, a float32 confidence moves by
    # about 1e-7, and ECE, a sum of them over 15 bins, by up to a few 1e-6
    assert json.loads((copy / "eval" / "metrics.json").read_text())["test_ece"] == pytest.approx(metrics["test_ece"],
                                                                                                  abs=1e-5)


def test_calibration_off_leaves_no_file_and_temperature_one(tmp_path):
    result = run_in_process("+experiment=tiny", "data.max_rows=200", "data.test_path=null", "model.calibration=null",
                            "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "run" / "calibration.json").exists() and "calibration:" not in result.stdout
    assert float(open_run(tmp_path / "run").model.temperature) == 1.0
    assert np.isfinite(json.loads((tmp_path / "run" / "metrics.json").read_text())["test_ece"])
