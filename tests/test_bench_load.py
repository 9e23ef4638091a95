"""The load test runs end to end against the real server (a smoke run of a few requests: its
figures are not checked, speed lives in the script's own output, never in a timed test)."""

import json

from conftest import run_in_process


def test_load_test_reports_every_batch_size_with_no_errors(tiny_run, tmp_path):
    result = run_in_process("--run-dir", str(tiny_run[0]), "--requests", "12", "--clients", "3", "--json",
                            cwd=tmp_path, module="neka.bench.load")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert [row["batch_size"] for row in report["results"]] == [1, 32]
    for row in report["results"]:
        assert row["errors"] == 0 and row["requests_per_s"] > 0
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert 0 < row["rss_start_mb"] <= row["rss_peak_mb"] and row["rss_end_mb"] <= row["rss_peak_mb"]
