"""`python -m neka.bench.label_issues`: how many planted label errors neka's cross-validated
ranking finds, against a TF-IDF + logistic-regression baseline on the same folds.

It takes `--rows` reviews of an NSMC-style table (seeded), flips the labels of `--flips` of them
(seeded), and cross-validates each neka configuration given (`--neka NAME=OVERRIDES`) on the
noisy table with `cv.label_issues=true`. The baseline (character 1-3-gram TF-IDF, logistic
regression) is trained on exactly the folds neka used, and both out-of-fold probabilities go
through the same cleanlab ranking (neka/crossval/label_issues.py). Reported per method: the
out-of-fold accuracy against the noisy and the true labels, how many rows cleanlab flags, and
how many of the planted flips are among the first 150 and 300 of the ranking.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

SHARED_NSMC = Path(__file__).resolve().parents[3] / "shared" / "data" / "nsmc_sample"  # ../shared beside the repo


def plant_flips(table: pd.DataFrame, label_column: str, count: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The table with `count` labels changed to another class (drawn at random), and which rows."""
    rng = np.random.default_rng(seed)
    flipped = np.sort(rng.choice(len(table), size=count, replace=False))
    classes = np.array(sorted(table[label_column].unique()))
    noisy = table[label_column].to_numpy().copy()
    for row in flipped:
        noisy[row] = rng.choice(classes[classes != noisy[row]])
    return table.assign(**{label_column: noisy}), flipped


def cross_validate_neka(noisy_path: Path, test_path: Path, run_dir: Path, folds: int, overrides: list[str]) -> dict:
    """neka's own cross-validation, in this process, as `python -m neka.train` composes it."""
    import neka  # noqa: F401  registers the resolvers
    from neka.bench.peers import compose_train
    from neka.crossval.runner import find_label_issues

    cfg = compose_train([f"data.path={noisy_path}", f"data.test_path={test_path}", f"paths.run_dir={run_dir}",
                         "paths.latest=null", "data.cache_dir=null", *overrides])
    issues = find_label_issues(cfg, folds)
    oof = pd.read_csv(run_dir / "oof_predictions.csv")
    return {"fold": oof["fold"].to_numpy(), "predicted": oof["predicted_label"].to_numpy(),
            "ranking": issues["row"].to_numpy()}


def cross_validate_tfidf(texts: pd.Series, labels: np.ndarray, fold: np.ndarray) -> dict:
    """The baseline on neka's folds: out-of-fold probabilities, then the same cleanlab ranking."""
    from neka.crossval.label_issues import rank_label_issues

    classes = np.array(sorted(set(labels)))
    given = np.searchsorted(classes, labels)
    probabilities = np.zeros((len(labels), len(classes)))
    for k in np.unique(fold):
        train, held_out = fold != k, fold == k
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
        model = LogisticRegression(max_iter=2000, C=4.0)
        model.fit(vectorizer.fit_transform(texts[train]), given[train])
        probabilities[held_out] = model.predict_proba(vectorizer.transform(texts[held_out]))
    return {"predicted": classes[probabilities.argmax(axis=1)], "ranking": rank_label_issues(given, probabilities)}


def score(method: str, result: dict, noisy: np.ndarray, clean: np.ndarray, flipped: np.ndarray, seconds: float) -> dict:
    ranking, planted = result["ranking"], set(flipped.tolist())
    found = {top: len(planted & set(ranking[:top].tolist())) for top in (150, 300)}
    return {"method": method, "oof_acc_noisy": float(np.mean(result["predicted"].astype(str) == noisy.astype(str))),
            "oof_acc_true": float(np.mean(result["predicted"].astype(str) == clean.astype(str))),
            "flagged": len(ranking), "found_top150": found[150], "found_top300": found[300],
            "share_top150": found[150] / len(flipped), "share_top300": found[300] / len(flipped), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_NSMC / "train.tsv")
    parser.add_argument("--test", type=Path, default=SHARED_NSMC / "test.tsv", help="500 of its rows: each fold's test")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--flips", type=int, default=150)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--neka", nargs="+",
                        default=["tiny=", "tiny-10ep-v3000=trainer.max_epochs=10 tokenizer.vocab_size=3000"],
                        help="NAME=OVERRIDES (space-separated overrides of python -m neka.train)")
    parser.add_argument("--workdir", type=Path, default=Path("outputs/bench-label-issues"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    table = pd.read_csv(args.data, sep="\t").sample(n=args.rows, random_state=args.seed).reset_index(drop=True)
    noisy_table, flipped = plant_flips(table, "label", args.flips, args.seed)
    noisy_path, test_path = args.workdir / "noisy.tsv", args.workdir / "test.tsv"
    noisy_table.to_csv(noisy_path, sep="\t", index=False)
    pd.read_csv(args.test, sep="\t").sample(n=500, random_state=args.seed).to_csv(test_path, sep="\t", index=False)
    clean, noisy = table["label"].to_numpy(), noisy_table["label"].to_numpy()
    rows, fold = [], None
    for spec in args.neka:
        name, _, overrides = spec.partition("=")
        started = time.perf_counter()
        result = cross_validate_neka(noisy_path, test_path, args.workdir / f"neka-{name}", args.folds,
                                     overrides.split())
        fold = result["fold"] if fold is None else fold
        rows.append(score(f"neka {name}", result, noisy, clean, flipped, time.perf_counter() - started))
        print(json.dumps(rows[-1]), flush=True)
    started = time.perf_counter()
    baseline = cross_validate_tfidf(noisy_table["document"].fillna("").astype(str), noisy, fold)
    rows.append(score("TF-IDF + logistic regression", baseline, noisy, clean, flipped, time.perf_counter() - started))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"\n{args.rows} rows, {args.flips} labels flipped, {args.folds} folds (seed {args.seed})\n")
    print("| ranking from | OOF acc (noisy / true labels) | flagged | flips in top 150 | flips in top 300 | time |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['method']} | {row['oof_acc_noisy']:.3f} / {row['oof_acc_true']:.3f} | {row['flagged']} | "
              f"{row['found_top150']} ({row['share_top150']:.0%}) | {row['found_top300']} ({row['share_top300']:.0%}) "
              f"| {row['seconds']:.0f} s |")


if __name__ == "__main__":
    main()
