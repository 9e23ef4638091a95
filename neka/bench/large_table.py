"""`python -m neka.bench.large_table`: how reading, vocabulary training and encoding grow with
the table, the time to neka's first training step, and a real training epoch on the largest one.

Tables are drawn with replacement from the shipped NSMC sample (seeded), so any size can be
made offline. Each size runs neka's real path up to its first training step in a fresh
process, which reports the encoding's seconds, the seconds to that step and its peak memory;
`--train` then runs `python -m neka.train` on the largest table for one epoch, with its
progress bar, and reports its wall time and peak memory.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from neka.bench.processes import in_fresh_process
from neka.cli.resolvers import packaged_data_path


def make_table(rows: int, path: Path, seed: int = 0) -> None:
    reviews = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t")
    reviews.sample(n=rows, replace=True, random_state=seed).to_csv(path, sep="\t", index=False)


class FirstStep(Exception):
    """Raised at the first training batch: the table measures everything before it."""


def setup_once(path: str, queue) -> None:
    """In a fresh process, neka's real path up to its first training step: read, split, train
    WordPiece, encode, then build the model and the Trainer."""
    from pytorch_lightning import Callback

    import neka  # noqa: F401  registers the resolvers
    from neka.bench.peers import compose_train
    from neka.train import run

    class AtFirstStep(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_index):
            data = trainer.datamodule
            queue.put({"encode_s": data.encoding_seconds, "first_step_s": time.perf_counter() - started,
                       "tokens": sum(len(rows.token_ids) for rows in data.encoded.values()),
                       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
            raise FirstStep

    cfg = compose_train([f"data.path={path}", "data.test_path=null", "data.cache_dir=null",
                         f"paths.run_dir={Path(path).with_suffix('')}-run"])
    started = time.perf_counter()
    try:
        run(cfg, [AtFirstStep()])
    except FirstStep:
        pass
    except Exception as error:  # the parent waits on the queue: tell it, then fail here as well
        queue.put({"error": f"{type(error).__name__}: {error}"})
        raise


def train_one_epoch(path: Path, workdir: Path) -> dict:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "neka.train", f"data.path={path}", "data.test_path=null",
                    "trainer.max_epochs=1", "data.cache_dir=null", f"hydra.run.dir={workdir / 'run'}"], check=True)
    return {"train_wall_s": time.perf_counter() - started,
            "train_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "metrics": json.loads((workdir / "run" / "metrics.json").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 200_000])
    parser.add_argument("--train", action="store_true", help="also train one epoch on the largest table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        print(f"{'rows':>8} {'encode s':>9} {'to step 1 s':>12} {'tokens':>10} {'peak MB':>8}")
        for rows in args.rows:
            path = workdir / f"reviews-{rows}.tsv"
            make_table(rows, path)
            result = in_fresh_process(f"neka's path to its first training step on {path}", setup_once, str(path))
            print(f"{rows:>8} {result['encode_s']:>9.1f} {result['first_step_s']:>12.1f} {result['tokens']:>10} "
                  f"{result['peak_rss_mb']:>8.0f}", flush=True)
        if args.train:
            result = train_one_epoch(workdir / f"reviews-{max(args.rows)}.tsv", workdir)
            print(f"one epoch on {max(args.rows)} rows: {result['train_wall_s']:.0f} s wall, peak "
                  f"{result['train_peak_rss_mb']:.0f} MB; {result['metrics']}")


if __name__ == "__main__":
    main()
