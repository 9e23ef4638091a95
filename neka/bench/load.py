"""`python -m neka.bench.load --run-dir outputs/<run>`: load-test `python -m neka.serve` on loopback.

Starts the real server in a child process on a free loopback port, then, for each batch size,
sends a fixed number of POST /predict requests from concurrent clients (asyncio + httpx) with
real reviews from the embedded NSMC test split. Reports requests/s, rows/s, p50/p95/p99 latency,
errors, and the server's resident memory: after the warm-up, at the end, and its peak. The
clients share the machine with the server, so on 2 cores the figures are a lower bound.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from neka.cli.resolvers import packaged_data_path

STARTED_MARKER = "neka: serving "


@contextlib.contextmanager
def running_server(run_dir: str | Path, *overrides: str, timeout: float = 180) -> Iterator[tuple[int, str]]:
    """`python -m neka.serve` on a free loopback port: yields its pid and base URL once /health answers."""
    command = [sys.executable, "-m", "neka.serve", f"run_dir={run_dir}", "host=127.0.0.1", "port=0", *overrides]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines, found = deque(maxlen=50), threading.Event()
    url = []

    def drain_stderr() -> None:  # read to the end, or a chatty server would block on a full pipe
        for line in process.stderr:
            lines.append(line)
            if STARTED_MARKER in line and not found.is_set():
                url.append(line.rsplit(" at ", 1)[1].strip().rstrip("/"))
                found.set()
        found.set()

    threading.Thread(target=drain_stderr, daemon=True).start()
    try:
        if not found.wait(timeout) or not url:
            raise RuntimeError(f"the server did not start:\n{''.join(lines)}")
        wait_until_healthy(url[0], timeout)
        yield process.pid, url[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_healthy(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory from /proc (Linux); VmHWM is the peak since the process started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


async def send_requests(url: str, texts: list[str], batch_size: int, clients: int, requests: int) -> dict:
    """`requests` requests of `batch_size` texts, `clients` at a time; latency per request."""
    latencies, errors, next_index = [], [], itertools.count()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one_client() -> None:
            while (index := next(next_index)) < requests:
                body = {"texts": [texts[(index * batch_size + i) % len(texts)] for i in range(batch_size)]}
                started = time.perf_counter()
                try:
                    response = await client.post("/predict", json=body)
                    if response.status_code != 200 or len(response.json()["predictions"]) != batch_size:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as error:
                    errors.append(repr(error))
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "latencies": latencies, "errors": errors}


def measure(pid: int, url: str, texts: list[str], batch_size: int, clients: int, requests: int) -> dict:
    asyncio.run(send_requests(url, texts, batch_size, clients, max(2 * clients, requests // 10)))  # warm-up
    rss_start = rss_mb(pid)
    sent = asyncio.run(send_requests(url, texts, batch_size, clients, requests))
    milliseconds = 1000 * np.asarray(sent["latencies"])
    p50, p95, p99 = np.percentile(milliseconds, [50, 95, 99])
    rss_end = rss_mb(pid)
    # the kernel counts resident pages approximately (per CPU): an RSS just read can top the VmHWM read after it
    rss_peak = max(rss_mb(pid, "VmHWM"), rss_start, rss_end)
    return {"batch_size": batch_size, "clients": clients, "requests": requests, "errors": len(sent["errors"]),
            "first_errors": sent["errors"][:3], "requests_per_s": requests / sent["seconds"],
            "rows_per_s": requests * batch_size / sent["seconds"], "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "rss_start_mb": rss_start, "rss_end_mb": rss_end, "rss_peak_mb": rss_peak}


def print_table(results: list[dict]) -> None:
    header = ["batch", "clients", "requests", "errors", "req/s", "rows/s", "p50 ms", "p95 ms", "p99 ms",
              "RSS start MB", "RSS end MB", "peak MB"]
    print("  ".join(f"{h:>12}" for h in header))
    for row in results:
        cells = [row["batch_size"], row["clients"], row["requests"], row["errors"], f"{row['requests_per_s']:.1f}",
                 f"{row['rows_per_s']:.0f}", f"{row['p50_ms']:.1f}", f"{row['p95_ms']:.1f}", f"{row['p99_ms']:.1f}",
                 f"{row['rss_start_mb']:.0f}", f"{row['rss_end_mb']:.0f}", f"{row['rss_peak_mb']:.0f}"]
        print("  ".join(f"{c:>12}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m neka.bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, help="a finished run folder, as for python -m neka.serve")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=1000, help="requests per batch size, after a warm-up")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32], help="texts per request")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve", nargs="*", default=[], help="settings of the server, e.g. backend=onnx "
                        "serve.max_batch_rows=1 (one request per pass: no batching)")
    args = parser.parse_args()
    texts = pd.read_csv(packaged_data_path("nsmc/test.tsv"), sep="\t")["document"].astype(str).tolist()
    with running_server(args.run_dir, "serve.max_texts=1024", *args.serve) as (pid, url):
        results = [measure(pid, url, texts, size, args.clients, args.requests) for size in args.batch_sizes]
    if args.json:
        print(json.dumps({"results": results, "args": vars(args)}, indent=2))
    else:
        print_table(results)
    errors = sum(row["errors"] for row in results)
    if errors:
        print(f"{errors} requests failed, e.g. {results[0]['first_errors'] or results[-1]['first_errors']}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
