"""`python -m neka.bench.infer --run RUN_DIR`: rows/s of scoring, PyTorch float32 against ONNX
Runtime float32 and int8, at batch 1 and batch 64, on the same rows, in one process.

The rows are the run's recorded test rows (at most 1,000, as the export's parity check reads
them), scored by the loops predict and serve use (neka/inference/scoring.py model_outputs and
neka/inference/onnx_backend.py session_outputs). `tiny` is the run's own trained model, so its
int8 accuracy change is real; `minilm-shape` is an untrained encoder of MiniLM-L6's size over the
run's vocabulary, for speed only (its accuracy means nothing). Figures are medians over --repeats;
the machine's load average is printed with them, since other work on it slows every row alike.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from neka.bench.__main__ import SHAPES
from neka.cli.entry import user_errors
from neka.inference.onnx_backend import import_onnxruntime, new_session, session_outputs
from neka.inference.scoring import model_outputs
from neka.model.classifier import NekaClassifier
from neka.onnx.graph import export_graph, quantize_graph
from neka.onnx.parity import parity_rows
from neka.runs.trained import TrainedRun, open_run

BATCHES = (1, 64)


def shaped_model(run: TrainedRun, shape: str) -> NekaClassifier:
    if shape == "tiny":
        return run.model
    settings = {**run.model.hparams, "encoder": SHAPES[shape], "encoder_config": None, "pretrained": None}
    torch.manual_seed(0)
    return NekaClassifier(**settings).eval()


def rows_per_second(score, row_count: int, repeats: int) -> tuple[float, np.ndarray]:
    outputs, seconds = score(), []  # the first pass warms caches and ONNX Runtime's kernels
    for _ in range(repeats):
        start = time.perf_counter()
        score()
        seconds.append(time.perf_counter() - start)
    return row_count / statistics.median(seconds), outputs


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> float | None:
    return float((outputs.argmax(axis=1) == labels).mean()) if labels.ndim == 1 and outputs.shape[1] > 1 else None


def bench_shape(run: TrainedRun, shape: str, row_count: int, repeats: int, folder: Path, threads: int) -> list[dict]:
    model = shaped_model(run, shape)
    rows, _ = parity_rows(run)
    rows = rows.first(row_count)
    pad_id, results = run.tokenizer.pad_id, []
    float32_path, int8_path = folder / f"{shape}.onnx", folder / f"{shape}.int8.onnx"
    export_graph(model, float32_path)
    quantize_graph(float32_path, int8_path)
    sessions = {"onnx float32": new_session(float32_path, "bench", threads),
                "onnx int8": new_session(int8_path, "bench", threads)}
    sizes = {"torch float32": None, "onnx float32": float32_path.stat().st_size, "onnx int8": int8_path.stat().st_size}
    cpu = torch.device("cpu")
    for batch in BATCHES:
        scorers = {"torch float32": lambda: model_outputs(model, rows, pad_id, batch, cpu)}
        scorers.update({name: lambda session=session: session_outputs(session, rows, pad_id, batch)
                        for name, session in sessions.items()})
        for name, score in scorers.items():
            speed, outputs = rows_per_second(score, len(rows), repeats)
            results.append({"shape": shape, "backend": name, "batch": batch, "rows": len(rows),
                            "rows_per_s": round(speed, 1), "accuracy": accuracy(outputs, rows.labels),
                            "file_mb": None if sizes[name] is None else round(sizes[name] / 2**20, 2)})
            print(results[-1], flush=True)
    return results


def markdown(results: list[dict]) -> str:
    lines = ["| shape | backend | batch | rows/s | vs torch | test acc | file MB |",
             "|---|---|---:|---:|---:|---:|---:|"]
    base = {(r["shape"], r["batch"]): r["rows_per_s"] for r in results if r["backend"] == "torch float32"}
    for r in results:
        ratio = r["rows_per_s"] / base[r["shape"], r["batch"]]
        acc = "" if r["accuracy"] is None or r["shape"] != "tiny" else f"{r['accuracy']:.4f}"
        size = "" if r["file_mb"] is None else f"{r['file_mb']:.2f}"
        lines.append(f"| {r['shape']} | {r['backend']} | {r['batch']} | {r['rows_per_s']:,.0f} | {ratio:.2f}× | "
                     f"{acc} | {size} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m neka.bench.infer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a finished run folder (python -m neka.train)")
    parser.add_argument("--shapes", nargs="+", default=["tiny", "minilm-shape"], choices=["tiny", "minilm-shape"])
    parser.add_argument("--rows", type=int, default=512, help="test rows scored per pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0,
                        help="threads of each backend (torch.set_num_threads, ONNX Runtime's intra-op threads); 0: "
                             "each one's default. 1 keeps a busy machine's other work from stalling a forward pass")
    args = parser.parse_args()
    with user_errors():
        import_onnxruntime("python -m neka.bench.infer")
        run = open_run(args.run)
        if args.threads:
            torch.set_num_threads(args.threads)
        with tempfile.TemporaryDirectory() as folder:
            results = [row for shape in args.shapes for row in bench_shape(run, shape, args.rows, args.repeats,
                                                                           Path(folder), args.threads)]
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
    print(markdown(results))


if __name__ == "__main__":
    main()
