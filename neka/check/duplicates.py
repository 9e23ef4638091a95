"""Repeated rows: within the training split (they weigh some texts more), across splits (a
validation or test row that training also holds: leakage, a score that flatters), and identical
texts with different labels (at least one of them is wrong). Exact and normalised
(neka.check.texts.normalise); pandas' `duplicated` and `isin` do the matching. Examples name
rows by their place among the file's data rows, counting from 1."""

import pandas as pd

from neka.check.findings import Finding

EXAMPLES = 5


def check_duplicates(rows: dict[str, pd.DataFrame], file_keys: dict[str, str]) -> tuple[dict, list[Finding]]:
    """`file_keys`: the config key of each split's file (data.path, data.test_path, ...)."""
    sizes = {split: len(frame) for split, frame in rows.items()}
    # a text of punctuation alone normalises to "": neka.check.lengths reports it, it matches nothing here
    rows = {split: frame[frame.normalised != ""] for split, frame in rows.items()}
    train = rows["train"]
    section = {"train": {form: repeats(train[form], train) for form in ("text", "normalised")}}
    findings = []
    exact, normalised = section["train"]["text"]["rows"], section["train"]["normalised"]["rows"]
    if normalised:
        findings.append(Finding("duplicates", normalised,
                                f"{exact} training rows repeat an earlier training row exactly, {normalised} after "
                                f"normalising case, spacing and punctuation",
                                f"remove the repeats from {file_keys['train']}: they weigh those texts more"))
    leakage = {}
    for split in ("val", "test"):
        leakage[split] = {form: seen_in_training(rows[split], train, form) for form in ("text", "normalised")}
        exact, normalised = leakage[split]["text"]["rows"], leakage[split]["normalised"]["rows"]
        if normalised:
            carved = file_keys[split] == file_keys["train"]
            action = (f"remove repeated rows from {file_keys['train']} before it is split" if carved else
                      f"remove those rows from {file_keys[split]} (or from {file_keys['train']})")
            findings.append(Finding("leakage", normalised,
                                    f"{normalised} of {sizes[split]:,} {split} rows also appear in training "
                                    f"({exact} exactly): {split} scores will flatter", action))
    section["leakage"] = leakage
    return section, findings


def repeats(keys: pd.Series, rows: pd.DataFrame) -> dict:
    """Rows whose key an earlier row of the same split has, and the largest groups as examples."""
    counts = keys.value_counts()
    counts = counts[counts > 1]
    examples = [{"count": int(count), "texts": _spellings(rows.text[keys == key]),
                 "labels": _label_list(rows.label[keys == key])} for key, count in counts.head(EXAMPLES).items()]
    return {"rows": int(keys.duplicated().sum()), "groups": len(counts), "examples": examples}


def seen_in_training(split_rows: pd.DataFrame, train: pd.DataFrame, form: str) -> dict:
    # the unique values: pandas' string isin walks its argument in Python, 16x slower on 180,000 training rows
    leaked = split_rows[split_rows[form].isin(train[form].unique())]
    examples = [{"row": int(position) + 1, "text": row.text, "label": _plain(row.label),
                 "training_labels": _label_list(train.label[train[form] == row[form]])}
                for position, row in leaked.head(EXAMPLES).iterrows()]
    return {"rows": len(leaked), "examples": examples}


def check_conflicts(rows: dict[str, pd.DataFrame]) -> tuple[dict, list[Finding]]:
    """Identical texts (exactly, across all splits) with more than one label; classification only."""
    every = pd.concat([frame.assign(split=split) for split, frame in rows.items()])
    label_counts = every.groupby("text", sort=False)["label"].nunique()
    conflicting = label_counts[label_counts > 1]
    involved = every[every.text.isin(set(conflicting.index))]
    examples = [{"text": text, "labels": {split: _label_list(group.label[group.split == split])
                                          for split in rows if (group.split == split).any()}}
                for text, group in list(involved.groupby("text", sort=False))[:EXAMPLES]]
    section = {"texts": len(conflicting), "rows": len(involved), "examples": examples}
    findings = []
    if len(conflicting):
        findings.append(Finding("conflicts", len(involved),
                                f"{len(conflicting)} texts appear with different labels ({len(involved)} rows)",
                                "relabel or remove them in the table (data.label_column) so each text has one label"))
    return section, findings


def _spellings(texts: pd.Series) -> list[str]:
    return texts.drop_duplicates().head(3).tolist()


def _label_list(labels: pd.Series) -> list:
    return [_plain(label) for label in labels.drop_duplicates().tolist()]


def _plain(value):
    """A label as JSON writes it: numpy numbers as Python numbers."""
    return value.item() if hasattr(value, "item") else value
