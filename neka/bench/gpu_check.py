"""`python -m neka.bench.gpu_check`: on a machine with a CUDA GPU, the measurements of a training
step bound by the host, in one run of under 10 minutes, written to one JSON and one markdown table.

1. `python -m neka.bench` at the tiny, MiniLM and KoBERT shapes for neka, neka_fp32, the Hugging
   Face Trainer (plain and tuned) and the KoBERT notebook's loop: one repeat each, each in a
   fresh process, the peer order rotated by one per shape.
2. Whether an unlogged training step waits for the GPU (neka/bench/step_syncs.py): CUDA's sync
   debug mode raises at the first wait. On a CPU the same steps run under `HostReads`.
3. The lever row `neka_compiled`: neka with `torch.compile(mode="reduce-overhead")`, a CUDA graph
   replayed per batch width, on the tiny shape, beside that shape's neka row.

`--device cpu --rows 200` runs it all on the CPU in a few minutes, to check it before a GPU's time
is spent.
"""

import argparse
import contextlib
import json
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

from neka.bench.__main__ import (
    SHAPES,
    device_name,
    gemm_peaks,
    non_embedding_parameters,
    peer_order,
    prepare,
    summarise,
)
from neka.bench.peers import SEED_RECIPE, measure_peer
from neka.bench.processes import in_fresh_process

PEERS = ["neka", "neka_fp32", "hf_trainer", "hf_trainer_tuned", "seed_loop"]
SHAPES_CHECKED = ["tiny", "minilm-shape", "kobert-shape"]
LEVER_SHAPE = "tiny"


def check_step_syncs(workdir: str, device: str, queue) -> None:
    """Child-process entry: one epoch of neka on the prepared rows, every unlogged step guarded.
    Puts {"steps": guarded steps, "waits": what waited (empty when none did)}."""
    try:
        from neka.bench.peers import run_neka
        from neka.bench.step_syncs import HostReads, UnloggedStepGuard, cuda_sync_errors

        recorders: list[HostReads] = []

        def host_reads() -> HostReads:
            recorders.append(HostReads())
            return recorders[-1]

        guard = UnloggedStepGuard(cuda_sync_errors if device == "cuda" else host_reads)
        waits: list[str] = []
        try:  # the GPU's torch dropout, not the CPU's numpy masks: the step a GPU runs
            with contextlib.redirect_stdout(sys.stderr):  # the run's summary: stdout is the table's
                run_neka(Path(workdir), 1, 0, overrides=["trainer.log_every_n_steps=50", "model.cpu_dropout=torch"],
                         callbacks=(guard,))
        except RuntimeError as error:  # CUDA's sync debug mode raises at the first wait
            waits.append("".join(traceback.format_exception_only(error)).strip())
        waits += [read for recorder in recorders for read in recorder.reads]
        queue.put({"steps": guard.steps, "waits": waits})
    except Exception:  # noqa: BLE001  the parent waits on the queue
        queue.put({"error": traceback.format_exc()})
        raise


def run_peers(workdir: Path, peers: list[str], shift: int, epochs: int, threads: int) -> dict[str, list[dict]]:
    results = {}
    for name in peer_order(peers, shift):
        started = time.perf_counter()
        results[name] = [in_fresh_process(f"peer {name}", measure_peer, name, str(workdir), epochs, 0, threads)]
        print(f"neka.bench.gpu_check: {workdir.name} {name}: train {results[name][0]['train_seconds']:.1f} s "
              f"({time.perf_counter() - started:.0f} s with start-up)", file=sys.stderr, flush=True)
    return {name: results[name] for name in peers}


def markdown(report: dict) -> str:
    lines = [f"{report['device']}; torch {report['torch']}; {report['date']}",
             "", "| shape | row | samples/s | ms a step | train s | test acc | peak MB | precision | of GEMM peak "
                 "| neka / row |", "|---|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for shape, table in report["shapes"].items():
        neka = table["neka"]["samples_per_s"]
        for name, row in table.items():
            memory = row.get("peak_gpu_mb", row["peak_rss_mb"])
            lines.append(f"| {shape} | {name} | {row['samples_per_s']:,.0f} | "
                         f"{row['ms_per_step']:.1f} | "
                         f"{row['train_s_all_repeats'][0]:.2f} | {row['test_acc']:.4f} | {memory:,.0f} | "
                         f"{row['precision']} | {row['share_of_gemm_peak']:.2%} | {neka / row['samples_per_s']:.2f}x |")
    sync = report["step_syncs"]
    lines += ["", f"Unlogged training steps guarded: {sync['steps']}; "
                  + ("none waited for the device." if not sync["waits"] else "waits: " + "; ".join(sync["waits"][:5]))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m neka.bench.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rows", type=int, default=4000, help="training rows per shape (the embedded NSMC sample)")
    parser.add_argument("--val-rows", type=int, default=200)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=SHAPES_CHECKED)  # the first: sync check
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=PEERS)
    parser.add_argument("--no-lever", action="store_true", help="leave out the neka_compiled row")
    parser.add_argument("--data", type=Path, default=None, help="an NSMC-format folder (default: the embedded sample)")
    parser.add_argument("--out", type=Path, default=Path("outputs/gpu-check"),
                        help="folder for gpu_check.json and gpu_check.md")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU here; use --device cpu")
    if "neka" not in args.peers:
        parser.error("--peers: neka must be among them (every ratio is neka's)")
    threads = torch.get_num_threads()
    started = time.perf_counter()
    peaks = gemm_peaks(args.device)
    report = {"device": device_name(args.device), "torch": torch.__version__, "python": platform.python_version(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "peaks_flops": peaks,
              "args": {key: str(value) for key, value in vars(args).items()}, "shapes": {}}
    with tempfile.TemporaryDirectory(prefix="neka-gpu-check-") as folder:
        for index, shape in enumerate(args.shapes):
            workdir = Path(folder) / shape
            workdir.mkdir()
            config = prepare(workdir, args.rows, args.val_rows, args.test_rows, shape, SEED_RECIPE["max_len"],
                             args.data, args.device)
            peers = args.peers + (["neka_compiled"] if shape == LEVER_SHAPE and not args.no_lever else [])
            results = run_peers(workdir, peers, index, args.epochs, threads)
            report["shapes"][shape] = summarise(results, non_embedding_parameters(config), config.num_hidden_layers,
                                                config.hidden_size, peaks)
            if index == 0:
                report["step_syncs"] = in_fresh_process("the step-sync check", check_step_syncs, str(workdir),
                                                        args.device)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
    table = markdown(report)
    (args.out / "gpu_check.md").write_text(table)
    print(table + f"\n{report['seconds']:.0f} s; written to {args.out}/gpu_check.json and gpu_check.md")


if __name__ == "__main__":
    main()
