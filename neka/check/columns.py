"""Columns of a table (data.text_columns null: every column but the label and data.drop_columns
is joined) that help no model: constant ones, ones unique per row (ids, probably meant for
data.drop_columns), and ones that give the label away (a grade binned into the label, with the
raw grade still among the inputs)."""

import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from neka.check.findings import Finding
from neka.data.columns import cells_as_text

PERFECT = 0.99  # held-out accuracy of the column alone, at or above which it gives the label away
STRONG_SHOWN = 5  # the columns that predict best, with their accuracy, in report.json


def check_columns(frames: dict[str, pd.DataFrame], labels: dict[str, pd.Series], input_columns: list[str],
                  drop_columns: list[str], is_regression: bool) -> tuple[dict, list[Finding]]:
    """`drop_columns`: those dropped already, kept in the data.drop_columns each finding suggests."""
    every = pd.concat(frames.values())
    cells = {column: pd.Series(cells_as_text(every[column]), index=range(len(every))) for column in input_columns}
    constant = [column for column, values in cells.items() if values.nunique() == 1]
    unique = [column for column in input_columns
              if is_identifier(every[column], cells[column], frames["train"][column])]
    candidates = [column for column in input_columns if column not in constant + unique]
    if is_regression:
        scores = {column: correlation(frames, labels, column) for column in candidates}
        measure, baseline, named = "absolute correlation with the target over all rows", 0.0, "correlation"
    else:
        scores = {column: holdout_accuracy(frames, labels, column) for column in candidates}
        measure = ("accuracy of the column alone on validation and test rows (fitted on training: a decision tree "
                   "on numbers, else each value's majority label)")
        named = "held-out accuracy"
        baseline = holdout_accuracy(frames, labels, None)
    ranked = sorted(((score, column) for column, score in scores.items() if score is not None), reverse=True)
    perfect = [column for score, column in ranked if score >= PERFECT and score > baseline]
    section = {"constant": constant, "unique": unique, "predictors": {
        "measure": measure, "baseline": round(baseline, 4), "perfect": perfect,
        "best": [{"column": column, "score": round(score, 4)} for score, column in ranked[:STRONG_SHOWN]]}}
    findings = []
    if constant:
        findings.append(Finding("columns", len(constant), f"columns {constant} hold one value in every row",
                                drop_key(drop_columns, constant)))
    if unique:
        findings.append(Finding("columns", len(unique), f"columns {unique} are unique per row, like ids",
                                f"{drop_key(drop_columns, unique)} unless they carry meaning"))
    if perfect:
        findings.append(Finding("columns", len(perfect), f"columns {perfect} alone predict the label ({named} "
                                                         f"{PERFECT} or more): a leak?",
                                f"{drop_key(drop_columns, perfect)} if they are known only with the label"))
    return section, findings


def drop_key(dropped: list[str], columns: list[str]) -> str:
    return f"data.drop_columns=[{','.join(map(str, [*dropped, *columns]))}]"


def is_identifier(values: pd.Series, cells: pd.Series, train: pd.Series) -> bool:
    """Distinct in every row, and text (codes, names), or whole numbers that rise in file order
    (row numbers) or have five digits or more (database keys). Whole numbers in a small range,
    like the scores of a small class, may well all differ; measurements with fractions too."""
    if len(cells) < 3 or cells.nunique() < len(cells):
        return False
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        return True
    if (numbers % 1 != 0).any():
        return False
    return bool(pd.to_numeric(train.sort_index()).is_monotonic_increasing or numbers.abs().min() >= 10_000)


def holdout_accuracy(frames: dict[str, pd.DataFrame], labels: dict[str, pd.Series], column: str | None) -> float:
    """The column alone, fitted on the training rows, predicts the validation and test rows: held
    out, so a column with many values cannot score by memorising rows. A numeric column through a
    decision tree (thresholds: a grade binned into the label, however many values it has), any
    other through each value's majority label (unseen values: the majority class). Without a
    column: the majority class alone, the baseline."""
    held_out = pd.concat([frames["val"], frames["test"]])
    truth = pd.concat([labels["val"], labels["test"]]).to_numpy()
    train_labels = labels["train"].to_numpy()
    if column is not None:
        train_numbers = pd.to_numeric(frames["train"][column], errors="coerce")
        numbers = pd.to_numeric(held_out[column], errors="coerce")
        if train_numbers.notna().all() and numbers.notna().all():
            tree = DecisionTreeClassifier(random_state=0).fit(train_numbers.to_frame().to_numpy(), train_labels)
            return float((tree.predict(numbers.to_frame().to_numpy()) == truth).mean())
    train = pd.DataFrame({"value": _cells(frames["train"], column), "label": train_labels})
    majority = train.groupby("value")["label"].agg(lambda values: values.value_counts().index[0])
    predicted = pd.Series(_cells(held_out, column)).map(majority).fillna(train.label.value_counts().index[0])
    return float((predicted.to_numpy() == truth).mean())


def _cells(frame: pd.DataFrame, column: str | None) -> list[str]:
    return cells_as_text(frame[column]) if column is not None else [""] * len(frame)


def correlation(frames: dict[str, pd.DataFrame], labels: dict[str, pd.Series], column: str) -> float | None:
    values = pd.to_numeric(pd.concat([frame[column] for frame in frames.values()]), errors="coerce")
    targets = pd.to_numeric(pd.concat(labels.values()))
    if values.isna().any() or values.nunique() < 2:
        return None
    return abs(float(values.reset_index(drop=True).corr(targets.reset_index(drop=True))))
