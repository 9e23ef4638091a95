"""`python -m neka.check label_issues=true`: the rows most likely mislabelled, from a short
cross-validation of the same data and tokenizer config (neka/crossval, cleanlab's confident
learning), written to label_issues.csv beside check/report.json."""

from pathlib import Path

from hydra import compose

from neka.check.findings import Finding

# 5 folds of 2 epochs: each row gets an out-of-fold prediction from a model that never saw it
SHORT_SCHEDULE = ("cv.folds=5", "trainer.max_epochs=2", "callbacks.early_stopping=null", "model.calibration=null")
SHOWN = 10  # rows of the ranking in report.json


def check_label_issues(run_dir: Path, overrides: list[str]) -> tuple[dict, list[Finding]]:
    """Composes neka.train's config with the check's own overrides (data.*, tokenizer.*) and the
    short schedule, and cross-validates it in `run_dir`/label_issues."""
    from neka.crossval.runner import find_label_issues  # training's modules only when asked for

    folder = run_dir / "label_issues"
    cfg = compose("train", overrides=[*overrides, *SHORT_SCHEDULE, f"paths.run_dir={folder}", "paths.latest=null"])
    table = find_label_issues(cfg)
    section = {"file": str(folder / "label_issues.csv"), "rows": len(table), "folds": 5,
               "top": table.head(SHOWN).to_dict("records")}
    finding = Finding("label_issues", len(table), f"{len(table):,} rows whose label the cross-validated models "
                      f"doubt most, ranked in {folder / 'label_issues.csv'}",
                      "read the top of the list and fix the labels that are wrong in data.path") if len(table) else None
    return section, [finding] if finding else []
