"""`python -m neka.bench.pooling`: test accuracy of each `model.pooling` choice, per encoder family.

Each family's encoder is built from scratch at one size (neka/bench/encoder_folders.py: saved as
its checkpoints are published, beside a tokenizer of its kind trained on the training rows), then
fine-tuned by neka's real path (`model=bert model.pretrained=DIR`) once per choice, with the same
seed, rows and steps; the real pretrained MiniLM-L6 (`model=minilm`) likewise. `auto` is listed
with what it picked; `pooler` only where the encoder has one. Prints one markdown table.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from neka.bench.encoder_folders import FAMILIES, build_family
from neka.bench.peers import compose_train
from neka.cli.resolvers import packaged_data_path

MINILM = "minilm"


def measure(overrides: list[str], workdir: Path) -> dict:
    import neka  # noqa: F401  registers the resolvers
    from neka.train import run

    run_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="run-"))
    started = time.perf_counter()
    metrics = run(compose_train([*overrides, "data.cache_dir=null", f"paths.run_dir={run_dir}"]))
    checkpoint = next((run_dir / "checkpoints").glob("best-*.ckpt"))
    picked = torch.load(checkpoint, map_location="cpu", weights_only=True)["hyper_parameters"]["pooling"]
    return {"test_acc": metrics["test/acc"], "seconds": time.perf_counter() - started, "picked": picked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=[*FAMILIES, MINILM])
    parser.add_argument("--rows", type=int, default=3000, help="training table rows (a tenth is validation)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab-size", type=int, default=4000)
    parser.add_argument("--scratch-lr", type=float, default=1e-3, help="optimizer.lr for encoders from scratch")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="neka-pooling-"))
    texts = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t")["document"].astype(str).tolist()
    size = {"hidden_size": args.hidden, "num_hidden_layers": args.layers, "num_attention_heads": args.hidden // 64,
            "intermediate_size": 4 * args.hidden}
    common = [f"data.max_rows={args.rows}", f"trainer.max_epochs={args.epochs}", "seed=42"]
    print("| family | auto picks | auto | pooler | cls | mean | s per run |", flush=True)
    print("|---|---|---:|---:|---:|---:|---:|", flush=True)
    for family in args.families:
        if family == MINILM:
            encoder = ["model=minilm"]
            choices = ["auto", "cls", "mean"]
        else:
            folder = workdir / family
            if not folder.exists():
                build_family(family, folder, texts, size, vocab_size=args.vocab_size)
            encoder = ["model=bert", f"model.pretrained={folder}", f"optimizer.lr={args.scratch_lr}"]
            choices = ["auto", "cls", "mean"] if family == "bert" else ["auto", "mean"]
        results = {choice: measure([*encoder, *common, f"model.pooling={choice}"], workdir) for choice in choices}
        picked = results["auto"]["picked"]
        cells = {choice: f"{result['test_acc']:.4f}" for choice, result in results.items()}
        cells[picked] = cells["auto"]  # auto is the choice it picked: one run serves both columns
        seconds = sum(result["seconds"] for result in results.values()) / len(results)
        print(f"| {family} | {picked} | {cells['auto']} | {cells.get('pooler', '–')} | {cells.get('cls', '–')} | "
              f"{cells['mean']} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
