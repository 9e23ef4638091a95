"""The HTTP face of a trained run, loaded once: POST /predict, GET /info, GET /health and GET /,
a page to try it in a browser. Requests carry texts only; the server never reads a path from one."""

import json
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files

import pandas as pd
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from neka.inference.scoring import answer_rows, encode_frame, predict_outputs
from neka.runs.trained import TrainedRun
from neka.serve.batching import RequestBatcher
from neka.serve.body_limit import BodyLimit
from neka.serve.http_errors import add_error_handlers
from neka.serve.schema import PredictRequest, request_rows

PAGE = (files("neka.serve") / "page.html").read_text(encoding="utf-8")


def build_app(run: TrainedRun, batch_size: int, max_texts: int, max_bytes: int, max_batch_rows: int = 256,
              max_wait_ms: float = 0.0) -> FastAPI:
    # no /docs or /redoc: FastAPI serves their scripts from a CDN; /openapi.json stays
    app = FastAPI(title="neka", summary="a trained neka run", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    add_error_handlers(app)
    info = run_info(run, max_texts, max_bytes)
    # Requests are scored on one thread, those that queued meanwhile together (neka/serve/batching.py):
    # a forward pass already uses every core, the tokenizer and model are shared, and a single thread
    # keeps to one malloc arena, so memory stays flat under concurrent load (the shared thread pool's
    # many threads grew it).
    scoring_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neka-scoring")

    def score(rows: list[list[str]]) -> list[dict]:
        encoded = encode_frame(run, pd.DataFrame(rows, columns=run.input_columns), "request")
        return answer_rows(run, rows, predict_outputs(run, encoded, batch_size, "cpu"))  # where open_run loaded it

    batcher = RequestBatcher(score, scoring_thread, max_batch_rows, max_wait_ms)

    @app.post("/predict")
    async def predict(request: PredictRequest) -> dict:
        """For each row in input order: the label, its probability and every class's; the labels
        that apply and every label's probability (multi-label); or the value."""
        rows = request_rows(request, run.input_columns, max_texts)
        return {"predictions": await batcher.answer(rows)}

    @app.get("/info")
    def describe() -> dict:
        return info

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return PAGE

    return app


def run_info(run: TrainedRun, max_texts: int, max_bytes: int) -> dict:
    """What a client needs to know before it sends rows, and how good the run was on its test split."""
    metrics_path = run.run_dir / "metrics.json"
    return {
        "task": run.inputs["task"],
        "labels": None if run.is_regression else run.label_names,
        "thresholds": dict(zip(run.label_names, run.thresholds.tolist())) if run.is_multilabel else None,
        "input_columns": run.input_columns,
        "pair": bool(run.config.data.pair),
        "model": model_name(run),
        "tokenizer": tokenizer_name(run),
        "max_len": int(run.config.data.max_len),
        "checkpoint": run.checkpoint.name,
        "metrics": json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else None,
        "max_texts": max_texts,
        "max_bytes": max_bytes,
    }


def model_name(run: TrainedRun) -> str:
    pretrained = run.config.model.get("pretrained")
    if pretrained:
        return str(pretrained)
    encoder = run.encoder_config
    return f"{encoder.model_type} from scratch ({encoder.num_hidden_layers} layers, hidden {encoder.hidden_size})"


def tokenizer_name(run: TrainedRun) -> str:
    tokenizer = run.config.tokenizer
    if tokenizer.kind == "wordpiece":
        return f"wordpiece trained on the run's training split ({len(run.tokenizer)} pieces)"
    return f"{tokenizer.kind} {tokenizer.get('pretrained')}"
