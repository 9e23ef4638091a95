"""The benchmark runs end to end (a smoke run: its figures are not checked, speed lives in
the benchmark's own output, never in a timed test)."""

import json

from conftest import run_neka


def test_benchmark_runs_every_peer_and_prints_json(tmp_path):
    # the four peers and one lever row; the other lever rows differ from it only in their overrides
    result = run_neka("--rows", "200", "--test-rows", "50", "--repeats", "1", "--json", "--peers", "neka", "hf_trainer",
                      "hf_trainer_tuned", "seed_loop", "neka_fp32", cwd=tmp_path,
                      module="neka.bench", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout[result.stdout.rindex("{\n  \"peaks_flops\""):])  # peers print before it
    assert set(report["peers"]) == {"neka", "hf_trainer", "hf_trainer_tuned", "seed_loop", "neka_fp32"}
    assert report["peers"]["neka_fp32"]["precision"] == "fp32"
    for row in report["peers"].values():
        assert row["samples_per_s"] > 0 and 0 <= row["padding_share"] < 1 and 0 <= row["test_acc"] <= 1
    assert report["peers"]["seed_loop"]["padding_share"] > report["peers"]["neka"]["padding_share"]
