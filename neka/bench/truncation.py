"""`python -m neka.bench.truncation`: the three `data.truncation` modes on a task whose decisive
text comes late, and on the real reviews.

The late-label task puts `--fillers` neutral sentences in front of each review of the shipped
NSMC sample (10,000 training, 2,000 test reviews; labels unchanged): statements (class 1) of the
3i4K intent corpus (`--filler-file`, ../shared/data/3i4k_intent; CC BY-SA 4.0, so the task is
built here, never shipped), drawn with `--seed`. Eight of them are about 70 WordPiece tokens, so
at max_len 64 the review starts after the first window. Each mode trains the default recipe
(`python -m neka.train`, tiny BERT, early stopping) on both tasks; the table gives test accuracy,
epochs trained, seconds per epoch and the whole run's wall time.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pytorch_lightning import Callback

from neka.cli.resolvers import packaged_data_path

SHARED_3I4K = Path(__file__).resolve().parents[3] / "shared" / "data" / "3i4k_intent" / "fci_train_val.txt"
MODES = ("head", "head_tail", "windows")


def late_label_table(reviews: pd.DataFrame, fillers: list[str], filler_count: int, seed: int) -> pd.DataFrame:
    """Each review (column `document`) behind `filler_count` sentences drawn from `fillers`."""
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(fillers), size=(len(reviews), filler_count))
    texts = [" ".join([*(fillers[i] for i in row), str(review)]) for row, review in zip(drawn, reviews["document"])]
    return reviews.assign(document=texts)


def statements(path: Path) -> list[str]:
    table = pd.read_csv(path, sep="\t", header=None, names=["label", "text"], dtype={"text": str})
    return [text.strip() for text in table.loc[table["label"] == 1, "text"].dropna()]


def build_task(workdir: Path, filler_file: Path, filler_count: int, seed: int) -> dict[str, Path]:
    fillers = statements(filler_file)
    paths = {}
    for split, name in (("train", "train.tsv"), ("test", "test.tsv")):
        reviews = pd.read_csv(packaged_data_path(f"nsmc/{name}"), sep="\t").dropna(subset=["document"])
        paths[split] = workdir / f"late_{name}"
        late_label_table(reviews, fillers, filler_count, seed + (split == "test")).to_csv(paths[split], sep="\t",
                                                                                         index=False)
    return paths


class EpochClock(Callback):
    """Seconds of each training epoch, validation excluded."""

    def __init__(self):
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, module):
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        self.seconds.append(time.perf_counter() - self.started)


def train_once(run_dir: Path, overrides: list[str]) -> dict:
    import neka  # noqa: F401  registers the resolvers
    from neka.bench.peers import compose_train
    from neka.train import fit_and_test

    shutil.rmtree(run_dir, ignore_errors=True)  # a run folder of an earlier invocation
    clock, started = EpochClock(), time.perf_counter()
    cfg = compose_train([f"paths.run_dir={run_dir}", "paths.latest=null", "data.cache_dir=null", *overrides])
    metrics, _ = fit_and_test(cfg, [clock])
    return {"test_acc": metrics["test/acc"], "epochs": len(clock.seconds),
            "s_per_epoch": float(np.median(clock.seconds)), "wall_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filler-file", type=Path, default=SHARED_3I4K)
    parser.add_argument("--fillers", type=int, default=8, help="neutral sentences in front of each review")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--tasks", nargs="+", default=["late", "real"], choices=["late", "real"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--workdir", type=Path, default=Path("outputs/bench-truncation"))
    parser.add_argument("overrides", nargs="*", help="more overrides of python -m neka.train")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    late = build_task(args.workdir, args.filler_file, args.fillers, args.seed) if "late" in args.tasks else None
    rows = []
    for task in args.tasks:
        data = [f"data.path={late['train']}", f"data.test_path={late['test']}"] if task == "late" else []
        for mode in args.modes:
            result = train_once(args.workdir / f"{task}-{mode}",
                                [*data, f"data.truncation={mode}", f"data.max_len={args.max_len}", *args.overrides])
            rows.append({"task": task, "mode": mode, **result})
            print(json.dumps(rows[-1]), flush=True)
    print(f"\nmax_len {args.max_len}, {args.fillers} filler sentences (seed {args.seed})\n")
    print("| task | data.truncation | test accuracy | epochs | s / epoch | wall |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['task']} | {row['mode']} | {row['test_acc']:.4f} | {row['epochs']} | {row['s_per_epoch']:.1f} | "
              f"{row['wall_s']:.0f} s |")


if __name__ == "__main__":
    main()
