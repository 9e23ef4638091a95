"""The labels: classes and their shares per split (or the distribution of a regression target),
and class names that differ only by case or spacing (`Positive`, `positive`): two classes where
one was meant. neka strips the ends of every label, so only inner spacing and case remain."""

import pandas as pd

from neka.check.findings import Finding


def check_labels(rows: dict[str, pd.DataFrame], is_regression: bool, label_column: str) -> tuple[dict, list[Finding]]:
    if is_regression:
        return {"distribution": {split: describe_numbers(frame.label) for split, frame in rows.items()}}, []
    counts = {split: frame.label.value_counts() for split, frame in rows.items()}
    classes = sorted(set().union(*(set(count.index) for count in counts.values())))
    section = {"classes": {name: {split: {"rows": int(count.get(name, 0)),
                                          "share": round(float(count.get(name, 0)) / max(int(count.sum()), 1), 4)}
                                  for split, count in counts.items()} for name in classes}}
    variants = spelling_variants(classes)
    section["variants"] = variants
    findings = [Finding("labels", len(group), f"labels {group} differ only by case or spacing: {len(group)} classes",
                        f"write each class one way in the table's {label_column!r} column (data.label_column)")
                for group in variants]
    return section, findings


def spelling_variants(names: list[str]) -> list[list[str]]:
    """Groups of names equal once case folded and inner whitespace removed."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault("".join(str(name).split()).casefold(), []).append(name)
    return [group for group in groups.values() if len(group) > 1]


def describe_numbers(values: pd.Series) -> dict:
    numbers = pd.to_numeric(values)
    quantiles = numbers.quantile([0.01, 0.5, 0.99])
    return {"rows": len(numbers), "mean": round(float(numbers.mean()), 4), "std": round(float(numbers.std()), 4),
            "min": float(numbers.min()), "p1": float(quantiles[0.01]), "p50": float(quantiles[0.5]),
            "p99": float(quantiles[0.99]), "max": float(numbers.max())}
