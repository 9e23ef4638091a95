"""The cheap part of the checks, for `neka.train` once its data is set up: rows of validation or
test that training also holds, texts with conflicting labels and a large share of rows cut at
max_len each get one warning line in the log, so a user sees them without asking;
`python -m neka.check` gives the whole report."""

import logging

from pytorch_lightning.utilities import rank_zero_only

from neka.check.duplicates import check_conflicts, check_duplicates
from neka.check.lengths import cut_finding, length_needed, token_lengths
from neka.check.texts import split_rows
from neka.data.datamodule import NekaDataModule

log = logging.getLogger(__name__)


@rank_zero_only  # under DDP every rank sets the data up
def warn_about_data(data: NekaDataModule) -> list[str]:
    """The warning lines logged (also returned)."""
    frames = data.split_frames()
    rows = split_rows(frames, data.input_columns, data.label_column, data.is_regression,
                      data.label_texts if data.is_multilabel else None)
    findings = [finding for finding in check_duplicates(rows, data.split_files)[1] if finding.check == "leakage"]
    if not data.is_regression:
        findings += check_conflicts(rows)[1]
    if data.truncation != "windows":  # windows read every token: no row loses any
        lengths = token_lengths(data.tokenizer, frames["train"], data.input_columns, data.encoded["train"])
        cut = lengths > data.max_len
        findings.append(cut_finding(float(cut.mean()), int(cut.sum()), data.max_len, length_needed(lengths, 0.99)))
    lines = [f"{finding.message} -> {finding.action} (python -m neka.check for the whole report)"
             for finding in findings if finding]
    for line in lines:
        log.warning(line)
    return lines
