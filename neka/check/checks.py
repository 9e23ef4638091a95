"""Every check on a DataModule that is set up, in the order report.json lists them."""

from neka.check.columns import check_columns
from neka.check.duplicates import check_conflicts, check_duplicates
from neka.check.findings import Finding
from neka.check.labels import check_labels
from neka.check.lengths import check_near_empty, check_tokens, token_lengths
from neka.check.texts import split_rows
from neka.data.datamodule import NekaDataModule


def check_data(data: NekaDataModule) -> dict:
    """report.json's content (README, "Check your data"); `findings` lists what is worth a warning."""
    frames = data.split_frames()
    rows = split_rows(frames, data.input_columns, data.label_column, data.is_regression,
                      data.label_texts if data.is_multilabel else None)
    file_keys = data.split_files
    is_table = data.text_columns is None  # data=table, data=student: every column but the label joined
    report = {
        "data": {"files": data.table_files, "label_column": data.label_columns or data.label_column,
                 "input_columns": data.input_columns,
                 "is_table": is_table, "task": data.task, "tokenizer": tokenizer_name(data.tokenizer_settings),
                 "max_len": data.max_len},
        "splits": {split: {"rows": len(frame), "from": data.origins[split]} for split, frame in rows.items()},
    }
    lengths = {split: token_lengths(data.tokenizer, frame, data.input_columns, data.encoded[split])
               for split, frame in frames.items()}
    sections = {
        "labels": check_labels(rows, data.is_regression, data.label_column),
        "duplicates": check_duplicates(rows, file_keys),
        "conflicts": check_conflicts(rows) if not data.is_regression else ({}, []),
        "texts": check_near_empty(rows, file_keys),
        "tokens": check_tokens(lengths, {split: frame.text for split, frame in rows.items()}, data.encoded,
                               data.tokenizer, data.max_len, data.max_unk_share),
        "columns": (check_columns(frames, {split: frame.label for split, frame in rows.items()}, data.input_columns,
                                  data.drop_columns, data.is_regression) if is_table else (None, [])),
        # label issues (rows whose cross-validated prediction disagrees with their label) join here, behind
        # label_issues=true, as one more (section, findings) pair
    }
    findings: list[Finding] = []
    for name, (section, found) in sections.items():
        report[name] = section
        findings += found
    report["findings"] = [finding.as_dict() for finding in findings]
    return report


def tokenizer_name(settings: dict | None) -> str | None:
    """As the config names it (a cached tokenizer's own name is its cache folder)."""
    return settings and (f"{settings['kind']} {settings['pretrained']}" if settings.get("pretrained")
                         else settings["kind"])
