"""check/report.json in the run folder, and the summary printed on the console: the data, then
one finding per line with its count and what addresses it."""

import json
from pathlib import Path

from neka.atomic import atomic_path
from neka.check.findings import Finding

REPORT = Path("check") / "report.json"


def write_report(run_dir: Path, report: dict) -> Path:
    path = run_dir / REPORT
    with atomic_path(path) as staging:
        staging.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def format_summary(report: dict, path: Path) -> str:
    data, tokens = report["data"], report["tokens"]
    lines = [f"data: {', '.join(f'{key}={file}' for key, file in data['files'].items())}; label "
             f"{data['label_column']!r}, input columns {data['input_columns']}, tokenizer {data['tokenizer']}",
             "rows: " + ", ".join(f"{split} {part['rows']:,} {part['from']}"
                                  for split, part in report["splits"].items())]
    if "classes" in report["labels"]:
        classes = list(report["labels"]["classes"].items())[:10]
        lines.append("classes (train): " + ", ".join(f"{name} {part['train']['share']:.1%}" for name, part in classes))
    else:
        train = report["labels"]["distribution"]["train"]
        lines.append(f"target (train): mean {train['mean']:.4g}, std {train['std']:.4g}, min {train['min']:g}, "
                     f"median {train['p50']:g}, max {train['max']:g}")
    lengths, keeping = tokens["train_lengths"], tokens["max_len_keeping"]
    lines.append(f"tokens (train): p50 {lengths['p50']}, p90 {lengths['p90']}, p99 {lengths['p99']}, max "
                 f"{lengths['max']}; {tokens['cut']['train']['share']:.1%} cut at max_len {tokens['max_len']}; "
                 f"max_len {keeping['95']} keeps 95 % whole, {keeping['99']} keeps 99 %; [UNK] "
                 f"{tokens['unk_share']['train']:.2%}")
    if report["columns"]:
        predictors = report["columns"]["predictors"]
        measured = ("absolute correlation with the target" if data["task"] == "regression" else
                    f"held-out accuracy; majority class {predictors['baseline']:.2f}")
        lines.append(f"columns alone ({measured}): " +
                     ", ".join(f"{best['column']} {best['score']:.2f}" for best in predictors["best"]))
    findings = [Finding(**finding) for finding in report["findings"]]
    lines += [finding.line() for finding in findings] or ["no findings"]
    lines.append(f"report: {path}")
    return "\n".join(lines)
