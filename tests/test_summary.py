"""The summary's metric columns follow the run's task, not the metrics it happens to have."""

from neka.runs.summary import format_summary


def test_a_classification_run_without_validation_shows_accuracy_columns(tmp_path):
    metrics = {"test/acc": 0.8, "test/ce": 0.45, "test/mse": 0.15}  # trainer.limit_val_batches=0: no val/*
    lines = format_summary(metrics, tmp_path, None, {"train": 90, "test": 10}, "classification", 1000,
                           ["neg", "pos"]).splitlines()
    assert "2 classes" in lines[0]
    assert lines[3].split() == ["split", "accuracy", "cross-entropy", "mse", "ECE"]
    assert lines[5].split() == ["test", "0.8000", "0.4500", "0.1500", "-"]
