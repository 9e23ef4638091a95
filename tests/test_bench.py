"""The benchmark runs end to end (a smoke run: its figures are not checked, speed lives in
the benchmark's own output, never in a timed test)."""

import json
import queue
from pathlib import Path

import pandas as pd
import pytest
import torch

from neka.bench.__main__ import (
    default_peers,
    non_embedding_parameters,
    parse_args,
    peer_order,
    prepare,
    read_nsmc,
    summarise,
)
from neka.bench.peers import measure_peer
from neka.cli.resolvers import packaged_data_path
from neka.errors import NekaError

from conftest import restored_process_state, run_in_process


@pytest.fixture(scope="module")
def nsmc_folder(tmp_path_factory) -> Path:
    """What --data reads: a folder in NSMC's format, here the embedded sample's first rows."""
    data = tmp_path_factory.mktemp("nsmc")
    for name, rows in (("train.tsv", 300), ("test.tsv", 50)):
        pd.read_csv(packaged_data_path(f"nsmc/{name}"), sep="\t").head(rows).to_csv(data / name, sep="\t", index=False)
    return data


SMALL = ["--rows", "200", "--val-rows", "100", "--test-rows", "50"]


def test_benchmark_runs_peers_each_in_a_fresh_process_and_prints_json(nsmc_folder, tmp_path):
    # two peers, each in its own fresh process as always: the JSON, the padding they compute and the
    # paired ratio; the other peers run the same child entry below, in this process
    result = run_in_process("--data", str(nsmc_folder), *SMALL, "--repeats", "1", "--json", "--peers", "neka",
                            "seed_loop", cwd=tmp_path, module="neka.bench")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)  # the peers' own output goes to stderr
    assert report["device"].startswith("CPU") and report["args"]["device"] == "cpu"
    assert set(report["peers"]) == {"neka", "seed_loop"}
    for row in report["peers"].values():
        assert row["samples_per_s"] > 0 and 0 <= row["padding_share"] < 1 and 0 <= row["test_acc"] <= 1
    assert report["peers"]["seed_loop"]["padding_share"] > report["peers"]["neka"]["padding_share"]
    neka_speed = report["peers"]["neka"]["samples_per_s"]  # one repeat: the paired ratio is the ratio of the rows
    assert report["peers"]["seed_loop"]["neka_speedup_each_repeat"] == [
        round(neka_speed / report["peers"]["seed_loop"]["samples_per_s"], 2)]


@pytest.fixture(scope="module")
def prepared(nsmc_folder, tmp_path_factory) -> tuple[Path, object]:
    """The benchmark's working folder (rows, recipe, encoder) with its default shape and max_len."""
    args, workdir = parse_args(["--data", str(nsmc_folder), *SMALL]), tmp_path_factory.mktemp("bench")
    return workdir, prepare(workdir, args.rows, args.val_rows, args.test_rows, args.shape, args.max_len, args.data)


@pytest.mark.parametrize("peer", ["hf_trainer", "hf_trainer_tuned", "neka_fp32"])
def test_the_other_peers_train_and_report_their_row(peer, prepared):
    """The peers the command above leaves out (the lever rows other than neka_fp32 differ from it
    only in their overrides), through the entry of each peer's fresh process, here in this one:
    a fresh process spends about 10 s importing before its second of training."""
    workdir, config = prepared
    figures = queue.SimpleQueue()
    with restored_process_state():
        measure_peer(peer, str(workdir), 1, 0, torch.get_num_threads(), figures)
    peaks = {"fp32": 1.0, "bf16": 1.0}  # the GEMM rates: only the share of them, not checked here, needs them
    row = summarise({peer: [figures.get()]}, non_embedding_parameters(config), config.num_hidden_layers,
                    config.hidden_size, peaks)[peer]
    assert row["samples_per_s"] > 0 and 0 <= row["padding_share"] < 1 and 0 <= row["test_acc"] <= 1
    assert row["precision"] == "fp32" or peer == "hf_trainer_tuned"  # bf16 only where it is native


def test_each_repeat_starts_one_peer_later():
    peers = ["neka", "hf_trainer", "seed_loop"]
    assert [peer_order(peers, repeat) for repeat in range(4)] == [
        peers, ["hf_trainer", "seed_loop", "neka"], ["seed_loop", "neka", "hf_trainer"], peers]


def test_lever_rows_of_one_kind_of_device_run_only_on_it():
    cpu, cuda = default_peers("cpu"), default_peers("cuda")
    assert {"neka", "hf_trainer", "hf_trainer_tuned", "seed_loop", "neka_fp32"} <= set(cpu) & set(cuda)
    assert "neka_torch_dropout" in cpu and "neka_torch_dropout" not in cuda  # numpy masks: CPU tensors only
    assert "neka_cudnn_attention" in cuda and "neka_cudnn_attention" not in cpu
    assert "neka_compiled" in cuda and "neka_compiled" not in cpu  # CUDA graphs; on the CPU 40 s of compiling


def test_gpu_check_runs_end_to_end_on_the_cpu(nsmc_folder, tmp_path):
    """Its peers and its step-sync check, each in a fresh process, on the overhead shape; the figures
    are not checked, the files and the sync check's verdict are."""
    result = run_in_process("--device", "cpu", "--data", str(nsmc_folder), *SMALL, "--shapes", "overhead",
                            "--peers", "neka", "seed_loop", "--no-lever", "--out", "check", cwd=tmp_path,
                            module="neka.bench.gpu_check")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "check" / "gpu_check.json").read_text())
    assert list(report["shapes"]) == ["overhead"] and set(report["shapes"]["overhead"]) == {"neka", "seed_loop"}
    assert report["step_syncs"] == {"steps": 4, "waits": []}  # 200 rows: 4 steps, none of them logged
    table = (tmp_path / "check" / "gpu_check.md").read_text()
    assert "| overhead | seed_loop |" in table and "none waited for the device" in table


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
    result = run_in_process("--rows", "400", cwd=tmp_path, module="neka.bench.large_table")
    assert result.returncode == 0, result.stderr[-3000:]
    header, row = result.stdout.splitlines()
    assert header.split() == ["rows", "encode", "s", "to", "step", "1", "s", "tokens", "peak", "MB"]
    rows, encode_s, first_step_s, tokens, peak_mb = (float(value) for value in row.split())
    assert rows == 400 and 0 < encode_s <= first_step_s and peak_mb > 100
    assert tokens > 400 * 3  # every row of every split: [CLS], its pieces, [SEP]
