"""The benchmark runs end to end (a smoke run: its figures are not checked, speed lives in
the benchmark's own output, never in a timed test)."""

import json

import pandas as pd
import pytest
import torch

from neka.bench.__main__ import default_peers, parse_args, peer_order, read_nsmc
from neka.cli.resolvers import packaged_data_path
from neka.errors import NekaError

from conftest import run_neka


def test_benchmark_runs_every_peer_and_prints_json(tmp_path):
    # the four peers and one lever row; the other lever rows differ from it only in their overrides;
    # the rows come from --data, a folder in NSMC's format (here the embedded sample's first rows)
    data = tmp_path / "nsmc"
    data.mkdir()
    for name, rows in (("train.tsv", 300), ("test.tsv", 50)):
        pd.read_csv(packaged_data_path(f"nsmc/{name}"), sep="\t").head(rows).to_csv(data / name, sep="\t", index=False)
    result = run_neka("--data", str(data), "--rows", "200", "--val-rows", "100", "--test-rows", "50", "--repeats", "1",
                      "--json", "--peers", "neka", "hf_trainer", "hf_trainer_tuned", "seed_loop", "neka_fp32",
                      cwd=tmp_path, module="neka.bench", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)  # the peers' own output goes to stderr
    assert report["device"].startswith("CPU") and report["args"]["device"] == "cpu"
    assert set(report["peers"]) == {"neka", "hf_trainer", "hf_trainer_tuned", "seed_loop", "neka_fp32"}
    assert report["peers"]["neka_fp32"]["precision"] == "fp32"
    for row in report["peers"].values():
        assert row["samples_per_s"] > 0 and 0 <= row["padding_share"] < 1 and 0 <= row["test_acc"] <= 1
    assert report["peers"]["seed_loop"]["padding_share"] > report["peers"]["neka"]["padding_share"]
    neka_speed = report["peers"]["neka"]["samples_per_s"]  # one repeat: the paired ratio is the ratio of the rows
    assert report["peers"]["seed_loop"]["neka_speedup_each_repeat"] == [
        round(neka_speed / report["peers"]["seed_loop"]["samples_per_s"], 2)]


def test_each_repeat_starts_one_peer_later():
    peers = ["neka", "hf_trainer", "seed_loop"]
    assert [peer_order(peers, repeat) for repeat in range(4)] == [
        peers, ["hf_trainer", "seed_loop", "neka"], ["seed_loop", "neka", "hf_trainer"], peers]


def test_lever_rows_of_one_kind_of_device_run_only_on_it():
    cpu, cuda = default_peers("cpu"), default_peers("cuda")
    assert {"neka", "hf_trainer", "hf_trainer_tuned", "seed_loop", "neka_fp32"} <= set(cpu) & set(cuda)
    assert "neka_torch_dropout" in cpu and "neka_torch_dropout" not in cuda  # numpy masks: CPU tensors only
    assert "neka_cudnn_attention" in cuda and "neka_cudnn_attention" not in cpu


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is there to train on")
def test_device_cuda_without_a_gpu_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--device", "cuda"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m neka.bench: error: --device cuda: torch sees no CUDA GPU here; use --device cpu")


def test_benchmark_reads_the_embedded_sample_without_a_data_folder():
    assert len(read_nsmc(None, "test.tsv")) == 2000


def test_benchmark_data_folder_must_hold_nsmc_format_tables(tmp_path):
    with pytest.raises(NekaError, match="no file .*train.tsv"):
        read_nsmc(tmp_path, "train.tsv")
    pd.DataFrame({"text": ["좋다"], "label": [1]}).to_csv(tmp_path / "train.tsv", sep="\t", index=False)
    with pytest.raises(NekaError, match="lacks the columns document and label"):
        read_nsmc(tmp_path, "train.tsv")


def test_large_table_times_the_real_path_to_the_first_training_step(tmp_path):
    result = run_neka("--rows", "400", cwd=tmp_path, module="neka.bench.large_table")
    assert result.returncode == 0, result.stderr[-3000:]
    header, row = result.stdout.splitlines()
    assert header.split() == ["rows", "encode", "s", "to", "step", "1", "s", "tokens", "peak", "MB"]
    rows, encode_s, first_step_s, tokens, peak_mb = (float(value) for value in row.split())
    assert rows == 400 and 0 < encode_s <= first_step_s and peak_mb > 100
    assert tokens > 400 * 3  # every row of every split: [CLS], its pieces, [SEP]
